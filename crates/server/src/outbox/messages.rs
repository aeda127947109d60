//! What the applicant is told, in Vietnamese: the email (plain text and HTML, built from
//! the same paragraphs) and the SMS for each change of [`super::NOTIFIED_KINDS`].

use motcua_core::calendar::VIETNAM_OFFSET;
use motcua_core::lifecycle::{Delivery, Dossier, Notice, NoticeKind};
use motcua_core::money::Vnd;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::Config;
use crate::notify::{Email, html_escape};

/// Longest SMS text; longer lists are cut with `…` (a Vietnamese SMS is Unicode, so this
/// is already several segments).
const SMS_MAX_CHARS: usize = 320;

/// A notification: the email's parts and the SMS text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Email subject.
    pub subject: String,
    /// Paragraphs of the email, before the list.
    pub paragraphs: Vec<String>,
    /// Items listed after the paragraphs (documents to supplement).
    pub list: Vec<String>,
    /// Paragraphs after the list.
    pub closing: Vec<String>,
    /// The SMS text.
    pub sms: String,
}

/// `08:00 ngày 06/03/2026`, in Vietnam time.
pub fn vn_datetime(t: OffsetDateTime) -> String {
    let t = t.to_offset(VIETNAM_OFFSET);
    format!(
        "{:02}:{:02} ngày {:02}/{:02}/{}",
        t.hour(),
        t.minute(),
        t.day(),
        u8::from(t.month()),
        t.year()
    )
}

fn vn_opt(t: Option<OffsetDateTime>) -> String {
    t.map_or_else(|| "(chưa xác định)".to_owned(), vn_datetime)
}

/// The notice of `kind` the event issued: the latest one issued at or before the event.
fn notice_at(d: &Dossier, kind: NoticeKind, at: Option<OffsetDateTime>) -> Option<&Notice> {
    d.notices
        .iter()
        .rfind(|n| n.kind == kind && at.is_none_or(|at| n.at <= at))
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

impl Message {
    /// The message for an event of `kind` about `d` (as loaded now; `payload` is the
    /// event's, for the instant it happened); `None` for kinds the applicant is not told
    /// about. `rating_code` is the code a "result ready" notice carries (only the
    /// applicant's own email or SMS): the proof a rating by link asks for.
    pub fn for_event(
        kind: &str,
        d: &Dossier,
        payload: &serde_json::Value,
        config: &Config,
        rating_code: Option<&str>,
    ) -> Option<Message> {
        let instant = |key: &str| {
            payload[key]
                .as_str()
                .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
        };
        let at = instant("at");
        // The appointment as it stood when the event happened (a later supplement may have
        // moved it since; the message describes the event).
        let due_then = instant("due_at").or(d.due_at);
        let code = d.code.as_str();
        let procedure = &d.procedure_name;
        let mut list = Vec::new();
        let (subject, mut paragraphs, sms) = match kind {
            "dossier.accept" => (
                format!("Hồ sơ {code} đã được tiếp nhận"),
                vec![
                    format!(
                        "Hồ sơ «{procedure}» của Ông/Bà đã được tiếp nhận lúc {}, mã hồ sơ {code}.",
                        vn_opt(d.received_at)
                    ),
                    format!("Ngày hẹn trả kết quả: {}.", vn_opt(due_then)),
                    format!(
                        "Mã tra cứu hồ sơ: {} (dùng cùng mã hồ sơ để tra cứu tình trạng xử lý).",
                        d.tracking_secret
                    ),
                ],
                format!(
                    "Hồ sơ {code} đã được tiếp nhận. Hẹn trả kết quả: {}. Mã tra cứu: {}.",
                    vn_opt(due_then),
                    d.tracking_secret
                ),
            ),
            "dossier.request-completion" | "dossier.request-supplement" => {
                let notice = notice_at(d, NoticeKind::SupplementRequest, at);
                list = notice.map(|n| n.missing.clone()).unwrap_or_default();
                let mut p = vec![format!(
                    "Hồ sơ «{procedure}» (mã {code}) của Ông/Bà cần được bổ sung, hoàn thiện các giấy tờ sau:"
                )];
                if let Some(reason) = notice.map(|n| n.reason.as_str()).filter(|r| !r.is_empty()) {
                    p.insert(1, format!("Lý do: {reason}"));
                }
                let sms = format!("Hồ sơ {code} cần bổ sung: {}.", list.join("; "));
                (format!("Hồ sơ {code} cần bổ sung, hoàn thiện"), p, sms)
            }
            "dossier.request-payment" => {
                let notice = notice_at(d, NoticeKind::PaymentRequest, at);
                let amount = notice.and_then(|n| n.amount).or(d.payment_due).unwrap_or(Vnd(0));
                let mut p = vec![format!(
                    "Đề nghị Ông/Bà thực hiện nghĩa vụ tài chính cho hồ sơ «{procedure}» (mã {code}): số tiền {amount}."
                )];
                if let Some(reason) = notice.map(|n| n.reason.as_str()).filter(|r| !r.is_empty()) {
                    p.push(format!("Nội dung: {reason}"));
                }
                p.push("Thời gian chờ nộp không tính vào thời hạn giải quyết hồ sơ.".to_owned());
                (
                    format!("Hồ sơ {code}: đề nghị thực hiện nghĩa vụ tài chính"),
                    p,
                    format!("Hồ sơ {code}: đề nghị nộp {amount} phí, lệ phí, nghĩa vụ tài chính."),
                )
            }
            "dossier.confirm-payment" => {
                let (amount, reference) = d.payments.last().cloned().unwrap_or((Vnd(0), String::new()));
                let receipt = if reference.is_empty() {
                    String::new()
                } else {
                    format!(" (biên lai {reference})")
                };
                (
                    format!("Hồ sơ {code}: đã nhận khoản nộp"),
                    vec![
                        format!("Đã nhận khoản nộp {amount}{receipt} cho hồ sơ «{procedure}» (mã {code})."),
                        format!(
                            "Hồ sơ tiếp tục được giải quyết; ngày hẹn trả kết quả: {}.",
                            vn_opt(due_then)
                        ),
                    ],
                    format!("Hồ sơ {code}: đã nhận {amount}{receipt}. Hồ sơ tiếp tục được giải quyết."),
                )
            }
            "dossier.apologise" => {
                let notice = notice_at(d, NoticeKind::Apology, at);
                let old_due = notice.and_then(|n| n.old_due).or(d.original_due_at);
                let new_due = notice.and_then(|n| n.new_due).or(d.due_at);
                let reason = notice.map(|n| n.reason.clone()).unwrap_or_default();
                (
                    format!("Hồ sơ {code}: xin lỗi và hẹn lại ngày trả kết quả"),
                    vec![
                        format!(
                            "Cơ quan giải quyết chân thành xin lỗi Ông/Bà vì hồ sơ «{procedure}» (mã {code}) \
                             chưa thể trả kết quả đúng hẹn {}.",
                            vn_opt(old_due)
                        ),
                        format!("Lý do: {reason}"),
                        format!("Ngày hẹn trả kết quả mới: {}.", vn_opt(new_due)),
                    ],
                    format!(
                        "Xin lỗi Ông/Bà: hồ sơ {code} chậm trả kết quả. Hẹn lại: {}.",
                        vn_opt(new_due)
                    ),
                )
            }
            "dossier.finish" => {
                let how = match d.delivery {
                    Delivery::Counter => {
                        "Mời Ông/Bà đến Bộ phận Một cửa nhận kết quả, mang theo Giấy tiếp nhận hồ sơ và hẹn trả kết quả."
                    }
                    Delivery::Post => "Kết quả sẽ được gửi đến Ông/Bà qua dịch vụ bưu chính công ích.",
                    Delivery::Online => "Kết quả được trả trực tuyến; Ông/Bà đăng nhập để nhận.",
                };
                let mut p = vec![
                    format!("Hồ sơ «{procedure}» (mã {code}) của Ông/Bà đã có kết quả giải quyết."),
                    how.to_owned(),
                ];
                // The code first in the SMS, so that cutting a long text never loses it.
                let mut sms = format!("Hồ sơ {code} đã có kết quả. {how}");
                if let Some(rating) = rating_code {
                    let base = config.public_base();
                    p.push(format!(
                        "Mời Ông/Bà đánh giá mức độ hài lòng tại {base}/danh-gia/{code} với mã đánh giá {rating}. \
                         Mã này chỉ gửi riêng cho Ông/Bà; xin đừng đưa cho người khác, kể cả cán bộ."
                    ));
                    sms = format!(
                        "Hồ sơ {code} đã có kết quả. Mã đánh giá hài lòng: {rating} (tại {base}/danh-gia/{code}). {how}"
                    );
                }
                (format!("Hồ sơ {code} đã có kết quả"), p, sms)
            }
            "dossier.return" => {
                let mut p = vec![format!(
                    "Kết quả hồ sơ «{procedure}» (mã {code}) đã được trả lúc {}.",
                    vn_opt(d.returned_at)
                )];
                let mut sms = format!("Hồ sơ {code} đã được trả kết quả.");
                if let Some(h) = &d.handed {
                    p.push(format!("Hình thức: {}.", h.method.label()));
                    if !h.tracking_number.is_empty() {
                        p.push(format!("Số hiệu bưu gửi: {}.", h.tracking_number));
                        sms = format!(
                            "Kết quả hồ sơ {code} đã gửi qua bưu chính, số hiệu {}.",
                            h.tracking_number
                        );
                    }
                }
                p.push("Cảm ơn Ông/Bà đã sử dụng dịch vụ công.".to_owned());
                (format!("Hồ sơ {code} đã được trả kết quả"), p, sms)
            }
            _ => return None,
        };
        let mut closing = Vec::new();
        // Never empty: `public_url`, else this server's listening address.
        let base = config.public_base();
        closing.push(format!(
            "Tra cứu tình trạng hồ sơ tại {base} bằng mã hồ sơ và mã tra cứu in trên Giấy tiếp nhận."
        ));
        closing.push("Thư này được gửi tự động từ hệ thống một cửa; xin đừng trả lời thư này.".to_owned());
        paragraphs.insert(0, format!("Kính gửi Ông/Bà {},", d.applicant.name));
        Some(Message {
            subject,
            paragraphs,
            list,
            closing,
            sms: truncate(&sms, SMS_MAX_CHARS),
        })
    }

    /// The message of queue ticket `number` (group `group`, centre `centre`, its page
    /// `page`) when `ahead` tickets are ahead of it (`core::queue::NOTIFY_AHEAD` or fewer).
    /// The SMS fits one Unicode segment (70 characters) and names nobody.
    pub fn for_ticket(number: &str, group: &str, centre: &str, ahead: i64, page: &str) -> Message {
        let (place, sms) = if ahead > 0 {
            (
                format!("còn {ahead} người chờ trước Ông/Bà"),
                format!("Số {number}: còn {ahead} người trước Ông/Bà. Mời đến gần quầy."),
            )
        } else {
            (
                "Ông/Bà là người tiếp theo".to_owned(),
                format!("Số {number}: sắp đến lượt Ông/Bà. Mời đến gần quầy."),
            )
        };
        Message {
            subject: format!("Sắp đến lượt số thứ tự {number}"),
            paragraphs: vec![
                "Kính gửi Ông/Bà,".to_owned(),
                format!("Số thứ tự {number} ({group}) của Ông/Bà tại {centre}: {place}."),
                "Mời Ông/Bà có mặt gần khu vực quầy; số được gọi trên bảng hiển thị và loa của Trung tâm.".to_owned(),
                format!("Theo dõi số thứ tự: {page}"),
            ],
            list: Vec::new(),
            closing: vec![
                "Số điện thoại và địa chỉ thư Ông/Bà để lại được xóa khi phục vụ xong hoặc hết ngày.".to_owned(),
                "Thư này được gửi tự động từ hệ thống một cửa; xin đừng trả lời thư này.".to_owned(),
            ],
            sms: truncate(&sms, SMS_MAX_CHARS),
        }
    }

    /// The plain-text body.
    pub fn text(&self) -> String {
        let mut out = self.paragraphs.join("\n\n");
        for item in &self.list {
            out.push_str("\n  - ");
            out.push_str(item);
        }
        for p in &self.closing {
            out.push_str("\n\n");
            out.push_str(p);
        }
        out.push('\n');
        out
    }

    /// The HTML body (every value escaped).
    pub fn html(&self) -> String {
        let mut out = String::from("<!doctype html><html lang=\"vi\"><body>");
        for p in &self.paragraphs {
            out.push_str(&format!("<p>{}</p>", html_escape(p)));
        }
        if !self.list.is_empty() {
            out.push_str("<ul>");
            for item in &self.list {
                out.push_str(&format!("<li>{}</li>", html_escape(item)));
            }
            out.push_str("</ul>");
        }
        for p in &self.closing {
            out.push_str(&format!("<p><small>{}</small></p>", html_escape(p)));
        }
        out.push_str("</body></html>");
        out
    }

    /// The email to `to`.
    pub fn email(&self, to: &str) -> Email {
        Email {
            to: to.to_owned(),
            subject: self.subject.clone(),
            text: self.text(),
            html: self.html(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn dates_are_vietnam_time() {
        assert_eq!(vn_datetime(datetime!(2026-03-06 02:00 UTC)), "09:00 ngày 06/03/2026");
    }

    #[test]
    fn a_ticket_sms_fits_one_segment() {
        for ahead in 0..=3 {
            let m = Message::for_ticket(
                "A1015",
                "Tư pháp – Hộ tịch",
                "Trung tâm",
                ahead,
                "https://x.vn/so-thu-tu/t",
            );
            assert!(m.sms.chars().count() <= 70, "{}", m.sms);
            assert!(
                m.sms.contains("A1015") && m.text().contains("Tư pháp – Hộ tịch"),
                "{m:?}"
            );
        }
        assert!(
            Message::for_ticket("A015", "g", "c", 3, "p")
                .sms
                .contains("còn 3 người")
        );
    }

    #[test]
    fn long_sms_is_cut() {
        let long = "ă".repeat(400);
        let cut = truncate(&long, SMS_MAX_CHARS);
        assert_eq!(cut.chars().count(), SMS_MAX_CHARS);
        assert!(cut.ends_with('…'));
        assert_eq!(truncate("ngắn", 10), "ngắn");
    }
}
