//! The documents a one-stop unit issues on a dossier (docs/rules.md §3), by meaning. Their
//! numbers and titles belong to the circular in force and are data of the rule set
//! ([`crate::rules`]); the templates that draw them are the PDF crate's.

/// A form of the one-stop circular.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Form {
    /// Giấy tiếp nhận hồ sơ và hẹn trả kết quả.
    Receipt,
    /// Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ.
    SupplementRequest,
    /// Phiếu từ chối tiếp nhận giải quyết hồ sơ.
    Refusal,
    /// Văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết.
    Apology,
    /// Thông báo dừng giải quyết hồ sơ.
    StopNotice,
    /// Phiếu kiểm soát quá trình giải quyết hồ sơ.
    ControlSheet,
    /// Sổ theo dõi hồ sơ.
    Register,
}

impl Form {
    /// Every form, in the order of the circular.
    pub const ALL: [Form; 7] = [
        Form::Receipt,
        Form::SupplementRequest,
        Form::Refusal,
        Form::Apology,
        Form::StopNotice,
        Form::ControlSheet,
        Form::Register,
    ];

    /// The name in URLs, object keys and rule sets (`receipt`, `supplement-request`, …).
    pub fn slug(self) -> &'static str {
        match self {
            Form::Receipt => "receipt",
            Form::SupplementRequest => "supplement-request",
            Form::Refusal => "refusal",
            Form::Apology => "apology",
            Form::StopNotice => "stop-notice",
            Form::ControlSheet => "control-sheet",
            Form::Register => "register",
        }
    }

    /// The form whose slug is `slug`.
    pub fn from_slug(slug: &str) -> Option<Form> {
        Form::ALL.into_iter().find(|f| f.slug() == slug)
    }
}
