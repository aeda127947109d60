//! The demo province: Ninh Thuận as its centre described itself in 2019 (docs/rules.md §1).
//!
//! 15 departments, 1,388 provincial procedures of which exactly 1,283 are received at the
//! centre. About forty procedures are modelled closely on real, common ones (documents,
//! fees and deadlines as the national catalogue lists them); the rest are generated from
//! each department's fields and the licences they issue, combined with the usual actions
//! (issue, re-issue, amend, extend, …). The generator is deterministic: a fixed-seed
//! SplitMix64 drives every choice, so every run builds the identical catalogue.
//! Procedure codes are synthetic (`1.9xxxxx`), so they never pass for real national codes.

use time::OffsetDateTime;
use time::macros::datetime;

use crate::catalogue::{
    Agency, AgencyKind, ApplicantKind, DocumentRequirement, FeeItem, FeeKind, Field, FormTemplate, Level, OnlineMode,
    ProcedureContent, ProcedureRecord, ProcedureVersion, ProcessingStep, ProcessingTime, Province, ProvinceCatalogue,
    StepRole,
};
use crate::codes::{AgencyCode, FieldCode, ProcedureCode, ProvinceCode};
use crate::money::Vnd;

/// Province unit code of the demo (Ninh Thuận; *unconfirmed*, docs/rules.md §2).
pub const UNIT: &str = "H43";
/// Number of provincial procedures the centre published.
pub const PROCEDURES: usize = 1388;
/// Number of them received at the centre.
pub const AT_CENTRE: usize = 1283;
/// When the demo catalogue's versions are dated: the centre's opening.
pub const CREATED_AT: OffsetDateTime = datetime!(2019-06-12 07:00 +07:00);

/// Deterministic SplitMix64: small, fast, and the same sequence on every platform (also
/// drives the bench's generated dossiers).
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` small: the modulo bias is negligible).
    pub fn below(&mut self, n: usize) -> usize {
        // n is tiny, so the modulo bias is negligible for demo data.
        (self.next_u64() % n as u64) as usize
    }

    /// One of `items` (not empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// One department of the demo: its fields and the licences (objects) each field issues.
struct DeptSpec {
    name: &'static str,
    abbrev: &'static str,
    count: usize,
    fields: &'static [(&'static str, &'static [&'static str])],
    /// Documents typical of the department, added to generated procedures.
    documents: &'static [&'static str],
    applicants: &'static [ApplicantKind],
}

use ApplicantKind::{Citizen as C, Organisation as O};

const DEPTS: &[DeptSpec] = &[
    DeptSpec {
        name: "Sở Kế hoạch và Đầu tư",
        abbrev: "KHDT",
        count: 140,
        fields: &[
            (
                "Thành lập và hoạt động của doanh nghiệp",
                &[
                    "Giấy chứng nhận đăng ký doanh nghiệp công ty trách nhiệm hữu hạn hai thành viên trở lên",
                    "Giấy chứng nhận đăng ký hoạt động chi nhánh",
                    "Giấy chứng nhận đăng ký hoạt động văn phòng đại diện",
                    "Giấy chứng nhận đăng ký doanh nghiệp xã hội",
                    "Giấy chứng nhận đăng ký doanh nghiệp công ty hợp danh",
                    "Giấy xác nhận về việc thay đổi nội dung đăng ký doanh nghiệp",
                ],
            ),
            (
                "Đầu tư tại Việt Nam",
                &[
                    "Giấy chứng nhận đăng ký đầu tư",
                    "Quyết định chủ trương đầu tư",
                    "Văn bản chấp thuận nhà đầu tư",
                    "Giấy chứng nhận đăng ký đầu tư cho dự án trong khu công nghiệp",
                ],
            ),
            (
                "Thành lập và hoạt động của hợp tác xã",
                &[
                    "Giấy chứng nhận đăng ký liên hiệp hợp tác xã",
                    "Giấy chứng nhận đăng ký chi nhánh liên hiệp hợp tác xã",
                    "Giấy chứng nhận đăng ký văn phòng đại diện liên hiệp hợp tác xã",
                ],
            ),
            (
                "Đấu thầu, lựa chọn nhà đầu tư",
                &[
                    "Quyết định phê duyệt danh mục dự án đầu tư theo hình thức đối tác công tư",
                    "Văn bản thẩm định hồ sơ mời thầu lựa chọn nhà đầu tư",
                    "Văn bản thẩm định kết quả lựa chọn nhà đầu tư",
                    "Quyết định phê duyệt dự án sử dụng vốn hỗ trợ phát triển chính thức",
                ],
            ),
        ],
        documents: &[
            "Điều lệ doanh nghiệp",
            "Danh sách thành viên, cổ đông sáng lập",
            "Đề xuất dự án đầu tư",
        ],
        applicants: &[O],
    },
    DeptSpec {
        name: "Sở Tư pháp",
        abbrev: "TP",
        count: 140,
        fields: &[
            (
                "Công chứng",
                &[
                    "Giấy đăng ký hoạt động của Văn phòng công chứng",
                    "Thẻ công chứng viên",
                    "Quyết định bổ nhiệm công chứng viên",
                    "Quyết định cho phép thành lập Văn phòng công chứng",
                ],
            ),
            (
                "Luật sư",
                &[
                    "Giấy đăng ký hoạt động của tổ chức hành nghề luật sư",
                    "Giấy đăng ký hoạt động của chi nhánh tổ chức hành nghề luật sư",
                    "Giấy phép thành lập chi nhánh của tổ chức luật sư nước ngoài",
                ],
            ),
            (
                "Giám định tư pháp",
                &[
                    "Quyết định bổ nhiệm giám định viên tư pháp",
                    "Giấy đăng ký hoạt động của Văn phòng giám định tư pháp",
                    "Thẻ giám định viên tư pháp",
                ],
            ),
            (
                "Đấu giá tài sản",
                &[
                    "Giấy đăng ký hoạt động của doanh nghiệp đấu giá tài sản",
                    "Thẻ đấu giá viên",
                    "Giấy đăng ký hoạt động của chi nhánh doanh nghiệp đấu giá tài sản",
                ],
            ),
            (
                "Trọng tài thương mại và hòa giải thương mại",
                &[
                    "Giấy đăng ký hoạt động của Trung tâm trọng tài",
                    "Giấy đăng ký hoạt động của Trung tâm hòa giải thương mại",
                    "Giấy đăng ký hoạt động của chi nhánh Trung tâm trọng tài",
                ],
            ),
            (
                "Quản tài viên",
                &[
                    "Giấy đăng ký hành nghề quản lý, thanh lý tài sản",
                    "Chứng chỉ hành nghề quản tài viên",
                ],
            ),
            // Judicial records are issued, not licensed: the field holds only the real procedure.
            ("Lý lịch tư pháp", &[]),
        ],
        documents: &[
            "Bản sao bằng cử nhân luật",
            "Giấy chứng nhận sức khỏe",
            "Phiếu lý lịch tư pháp",
        ],
        applicants: &[C, O],
    },
    DeptSpec {
        name: "Sở Xây dựng",
        abbrev: "XD",
        count: 55,
        fields: &[
            (
                "Hoạt động xây dựng",
                &[
                    "Chứng chỉ hành nghề kiểm định xây dựng hạng II",
                    "Chứng chỉ năng lực hoạt động xây dựng hạng III",
                    "Giấy phép hoạt động xây dựng cho nhà thầu nước ngoài",
                    "Chứng chỉ hành nghề an toàn lao động trong thi công xây dựng",
                ],
            ),
            (
                "Quy hoạch xây dựng, kiến trúc",
                &["Chứng chỉ quy hoạch xây dựng", "Chứng chỉ hành nghề kiến trúc"],
            ),
            (
                "Nhà ở và công sở",
                &["Giấy chứng nhận đủ điều kiện kinh doanh dịch vụ môi giới bất động sản"],
            ),
        ],
        documents: &[
            "Bản vẽ thiết kế",
            "Giấy tờ chứng minh quyền sử dụng đất",
            "Bản sao văn bằng chuyên môn",
        ],
        applicants: &[C, O],
    },
    DeptSpec {
        name: "Sở Tài nguyên và Môi trường",
        abbrev: "TNMT",
        count: 95,
        fields: &[
            (
                "Đất đai",
                &[
                    "Quyết định giao đất, cho thuê đất đối với tổ chức",
                    "Quyết định chuyển mục đích sử dụng đất",
                    "Quyết định gia hạn sử dụng đất",
                ],
            ),
            (
                "Tài nguyên nước",
                &[
                    "Giấy phép thăm dò nước dưới đất",
                    "Giấy phép xả nước thải vào nguồn nước",
                    "Giấy phép khai thác, sử dụng nước mặt",
                    "Giấy phép hành nghề khoan nước dưới đất",
                ],
            ),
            (
                "Môi trường",
                &[
                    "Giấy phép môi trường",
                    "Giấy xác nhận hoàn thành công trình bảo vệ môi trường",
                ],
            ),
            (
                "Khoáng sản",
                &[
                    "Giấy phép thăm dò khoáng sản",
                    "Giấy phép khai thác khoáng sản",
                    "Giấy phép khai thác tận thu khoáng sản",
                ],
            ),
        ],
        documents: &["Bản đồ khu vực", "Báo cáo hiện trạng", "Trích lục bản đồ địa chính"],
        applicants: &[C, O],
    },
    DeptSpec {
        name: "Sở Giao thông vận tải",
        abbrev: "GTVT",
        count: 110,
        fields: &[
            (
                "Đường bộ",
                &[
                    "Giấy chứng nhận giáo viên dạy thực hành lái xe",
                    "Giấy phép xe tập lái",
                    "Giấy phép đào tạo lái xe ô tô",
                    "Giấy phép thi công công trình trên đường bộ đang khai thác",
                    "Giấy phép lưu hành xe quá tải trọng, xe quá khổ giới hạn",
                    "Giấy chứng nhận trung tâm sát hạch lái xe loại 3",
                ],
            ),
            (
                "Đường thủy nội địa",
                &[
                    "Giấy chứng nhận đăng ký phương tiện thủy nội địa",
                    "Giấy phép hoạt động bến thủy nội địa",
                    "Giấy chứng nhận khả năng chuyên môn thuyền trưởng hạng ba",
                ],
            ),
            (
                "Đăng kiểm",
                &[
                    "Giấy chứng nhận cải tạo xe cơ giới",
                    "Giấy chứng nhận đủ điều kiện kinh doanh dịch vụ kiểm định xe cơ giới",
                ],
            ),
            (
                "Vận tải",
                &[
                    "Giấy phép liên vận quốc tế",
                    "Giấy phép vận tải đường bộ quốc tế loại A",
                    "Giấy phép vận tải qua biên giới Campuchia - Lào - Việt Nam",
                ],
            ),
        ],
        documents: &[
            "Bản sao giấy đăng ký xe",
            "Giấy chứng nhận kiểm định",
            "Bản sao giấy phép lái xe",
        ],
        applicants: &[C, O],
    },
    DeptSpec {
        name: "Sở Công Thương",
        abbrev: "CT",
        count: 120,
        fields: &[
            (
                "Lưu thông hàng hóa trong nước",
                &[
                    "Giấy phép bán buôn sản phẩm thuốc lá",
                    "Giấy phép sản xuất rượu công nghiệp",
                    "Giấy xác nhận đủ điều kiện làm tổng đại lý kinh doanh xăng dầu",
                    "Giấy chứng nhận đủ điều kiện kinh doanh khí",
                    "Giấy chứng nhận đủ điều kiện thương nhân phân phối xăng dầu",
                ],
            ),
            (
                "Điện",
                &[
                    "Giấy phép hoạt động phát điện",
                    "Giấy phép hoạt động phân phối điện",
                    "Thẻ kiểm tra viên điện lực",
                    "Giấy phép tư vấn chuyên ngành điện",
                ],
            ),
            (
                "Hóa chất, vật liệu nổ công nghiệp",
                &[
                    "Giấy chứng nhận đủ điều kiện sản xuất hóa chất sản xuất, kinh doanh có điều kiện",
                    "Giấy phép sử dụng vật liệu nổ công nghiệp",
                    "Giấy chứng nhận huấn luyện kỹ thuật an toàn vật liệu nổ công nghiệp",
                ],
            ),
            (
                "Xúc tiến thương mại",
                &[
                    "Văn bản xác nhận đăng ký thực hiện khuyến mại",
                    "Giấy xác nhận đăng ký tổ chức hội chợ, triển lãm thương mại",
                ],
            ),
            (
                "An toàn thực phẩm",
                &["Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm thuộc ngành Công Thương"],
            ),
        ],
        documents: &[
            "Bản sao Giấy chứng nhận đăng ký doanh nghiệp",
            "Bản kê trang thiết bị",
            "Phương án kinh doanh",
        ],
        applicants: &[O],
    },
    DeptSpec {
        name: "Sở Nông nghiệp và Phát triển nông thôn",
        abbrev: "NNPTNT",
        count: 105,
        fields: &[
            (
                "Thú y",
                &[
                    "Giấy chứng nhận cơ sở an toàn dịch bệnh động vật",
                    "Chứng chỉ hành nghề thú y",
                    "Giấy chứng nhận đủ điều kiện buôn bán thuốc thú y",
                ],
            ),
            (
                "Bảo vệ thực vật",
                &[
                    "Giấy chứng nhận đủ điều kiện buôn bán thuốc bảo vệ thực vật",
                    "Giấy phép vận chuyển thuốc bảo vệ thực vật",
                ],
            ),
            (
                "Thủy sản",
                &[
                    "Giấy phép khai thác thủy sản",
                    "Giấy chứng nhận cơ sở đủ điều kiện sản xuất giống thủy sản",
                    "Giấy chứng nhận đăng ký tàu cá",
                ],
            ),
            (
                "Lâm nghiệp",
                &[
                    "Giấy phép khai thác gỗ rừng trồng",
                    "Giấy chứng nhận trại nuôi động vật rừng",
                    "Quyết định phê duyệt phương án quản lý rừng bền vững",
                ],
            ),
            (
                "Trồng trọt",
                &[
                    "Giấy chứng nhận đủ điều kiện sản xuất phân bón",
                    "Quyết định công nhận cây đầu dòng",
                    "Giấy chứng nhận đủ điều kiện sản xuất giống cây trồng",
                ],
            ),
        ],
        documents: &[
            "Sơ đồ mặt bằng cơ sở",
            "Bản thuyết minh điều kiện sản xuất",
            "Bản sao chứng chỉ chuyên môn",
        ],
        applicants: &[C, O],
    },
    DeptSpec {
        name: "Sở Y tế",
        abbrev: "YT",
        count: 140,
        fields: &[
            (
                "Khám bệnh, chữa bệnh",
                &[
                    "Giấy phép hoạt động phòng khám đa khoa",
                    "Giấy phép hoạt động phòng khám chuyên khoa",
                    "Giấy phép hoạt động phòng chẩn trị y học cổ truyền",
                    "Giấy phép hoạt động dịch vụ cấp cứu, hỗ trợ vận chuyển người bệnh",
                    "Giấy phép hoạt động nhà hộ sinh",
                ],
            ),
            (
                "Dược phẩm",
                &[
                    "Giấy chứng nhận đủ điều kiện kinh doanh dược cho quầy thuốc",
                    "Giấy xác nhận nội dung quảng cáo thuốc",
                    "Giấy chứng nhận đủ điều kiện kinh doanh dược cho cơ sở bán buôn",
                    "Giấy chứng nhận đủ điều kiện kinh doanh thuốc dược liệu, thuốc cổ truyền",
                ],
            ),
            (
                "Mỹ phẩm",
                &[
                    "Phiếu tiếp nhận Phiếu công bố sản phẩm mỹ phẩm",
                    "Giấy chứng nhận đủ điều kiện sản xuất mỹ phẩm",
                ],
            ),
            (
                "An toàn thực phẩm và dinh dưỡng",
                &[
                    "Giấy tiếp nhận đăng ký bản công bố sản phẩm thực phẩm",
                    "Giấy xác nhận nội dung quảng cáo thực phẩm",
                ],
            ),
            (
                "Trang thiết bị y tế",
                &[
                    "Phiếu tiếp nhận hồ sơ công bố đủ điều kiện mua bán trang thiết bị y tế",
                    "Phiếu tiếp nhận hồ sơ công bố tiêu chuẩn áp dụng đối với trang thiết bị y tế loại A",
                ],
            ),
            (
                "Y tế dự phòng",
                &[
                    "Giấy chứng nhận đủ điều kiện tiêm chủng",
                    "Giấy chứng nhận phòng xét nghiệm an toàn sinh học cấp I",
                ],
            ),
        ],
        documents: &[
            "Danh sách nhân sự và bản sao chứng chỉ hành nghề",
            "Bản kê trang thiết bị y tế",
            "Sơ đồ mặt bằng cơ sở",
        ],
        applicants: &[C, O],
    },
    DeptSpec {
        name: "Sở Giáo dục và Đào tạo",
        abbrev: "GDDT",
        count: 85,
        fields: &[
            (
                "Giáo dục và đào tạo thuộc hệ thống giáo dục quốc dân",
                &[
                    "Quyết định cho phép thành lập trường trung học phổ thông tư thục",
                    "Quyết định cho phép hoạt động giáo dục trung tâm ngoại ngữ, tin học",
                    "Giấy phép tổ chức hoạt động dạy thêm, học thêm",
                    "Quyết định cho phép thành lập trung tâm hỗ trợ phát triển giáo dục hòa nhập",
                    "Giấy chứng nhận kiểm định chất lượng giáo dục trường trung học",
                ],
            ),
            (
                "Văn bằng, chứng chỉ",
                &[
                    "Bản sao văn bằng, chứng chỉ từ sổ gốc",
                    "Giấy chứng nhận tốt nghiệp trung học phổ thông tạm thời",
                ],
            ),
            (
                "Quy chế thi, tuyển sinh",
                &[
                    "Giấy xác nhận phúc khảo bài thi",
                    "Giấy báo trúng tuyển vào lớp 10 trường chuyên",
                ],
            ),
            (
                "Giáo dục nghề nghiệp và thường xuyên",
                &[
                    "Quyết định cho phép trung tâm giáo dục thường xuyên hoạt động giáo dục",
                    "Giấy chứng nhận đăng ký hoạt động liên kết đào tạo",
                ],
            ),
        ],
        documents: &["Đề án thành lập", "Danh sách giáo viên", "Bản sao học bạ"],
        applicants: &[C, O],
    },
    DeptSpec {
        name: "Sở Lao động - Thương binh và Xã hội",
        abbrev: "LDTBXH",
        count: 85,
        fields: &[
            (
                "Việc làm",
                &[
                    "Giấy phép hoạt động dịch vụ việc làm",
                    "Giấy phép hoạt động cho thuê lại lao động",
                ],
            ),
            (
                "Người có công",
                &[
                    "Giấy chứng nhận thân nhân liệt sĩ",
                    "Quyết định trợ cấp ưu đãi người có công",
                    "Giấy giới thiệu di chuyển hồ sơ người có công",
                ],
            ),
            (
                "Bảo trợ xã hội",
                &[
                    "Giấy chứng nhận đăng ký thành lập cơ sở trợ giúp xã hội",
                    "Giấy phép hoạt động cơ sở trợ giúp xã hội",
                ],
            ),
            (
                "An toàn, vệ sinh lao động",
                &[
                    "Giấy chứng nhận đủ điều kiện hoạt động huấn luyện an toàn, vệ sinh lao động",
                    "Giấy chứng nhận đủ điều kiện kiểm định kỹ thuật an toàn lao động",
                ],
            ),
            (
                "Giáo dục nghề nghiệp",
                &[
                    "Giấy chứng nhận đăng ký hoạt động giáo dục nghề nghiệp",
                    "Quyết định cho phép thành lập trường trung cấp tư thục",
                ],
            ),
        ],
        documents: &[
            "Bản sao hợp đồng lao động",
            "Giấy xác nhận của Ủy ban nhân dân cấp xã",
            "Bản sao giấy tờ chứng minh là người có công",
        ],
        applicants: &[C, O],
    },
    DeptSpec {
        name: "Sở Văn hóa, Thể thao và Du lịch",
        abbrev: "VHTTDL",
        count: 120,
        fields: &[
            (
                "Du lịch",
                &[
                    "Giấy phép kinh doanh dịch vụ lữ hành nội địa",
                    "Thẻ hướng dẫn viên du lịch nội địa",
                    "Quyết định công nhận hạng cơ sở lưu trú du lịch",
                    "Giấy chứng nhận cơ sở kinh doanh dịch vụ mua sắm đạt tiêu chuẩn phục vụ khách du lịch",
                ],
            ),
            (
                "Văn hóa cơ sở",
                &[
                    "Giấy phép tổ chức lễ hội",
                    "Văn bản chấp thuận tổ chức biểu diễn nghệ thuật",
                    "Giấy phép tổ chức thi người đẹp",
                    "Giấy phép tổ chức triển lãm mỹ thuật",
                    "Giấy phép kinh doanh dịch vụ vũ trường",
                ],
            ),
            (
                "Thể dục thể thao",
                &[
                    "Giấy chứng nhận đủ điều kiện kinh doanh hoạt động thể thao",
                    "Quyết định công nhận câu lạc bộ thể thao chuyên nghiệp",
                ],
            ),
            (
                "Di sản văn hóa",
                &[
                    "Giấy phép thăm dò, khai quật khảo cổ",
                    "Chứng chỉ hành nghề tu bổ di tích",
                    "Giấy chứng nhận đăng ký cổ vật",
                ],
            ),
            (
                "Quảng cáo",
                &["Văn bản thông báo sản phẩm quảng cáo trên bảng quảng cáo"],
            ),
        ],
        documents: &[
            "Kịch bản, chương trình chi tiết",
            "Bản sao chứng chỉ nghiệp vụ",
            "Sơ đồ địa điểm tổ chức",
        ],
        applicants: &[C, O],
    },
    DeptSpec {
        name: "Sở Thông tin và Truyền thông",
        abbrev: "TTTT",
        count: 45,
        fields: &[
            (
                "Xuất bản, in và phát hành",
                &[
                    "Giấy phép hoạt động in",
                    "Giấy phép xuất bản tài liệu không kinh doanh",
                    "Giấy phép nhập khẩu xuất bản phẩm không kinh doanh",
                ],
            ),
            (
                "Báo chí",
                &[
                    "Giấy phép xuất bản đặc san",
                    "Giấy phép trang thông tin điện tử tổng hợp",
                ],
            ),
            ("Bưu chính", &["Giấy phép bưu chính nội tỉnh"]),
        ],
        documents: &[
            "Mẫu trình bày",
            "Đề án hoạt động",
            "Bản sao văn bằng của người đứng đầu",
        ],
        applicants: &[O],
    },
    DeptSpec {
        name: "Sở Tài chính",
        abbrev: "TC",
        count: 28,
        fields: &[
            (
                "Quản lý công sản",
                &["Quyết định giao tài sản công", "Quyết định thanh lý tài sản công"],
            ),
            (
                "Tin học và thống kê tài chính",
                &["Giấy chứng nhận mã số đơn vị có quan hệ với ngân sách"],
            ),
            ("Quản lý giá", &["Văn bản hiệp thương giá"]),
        ],
        documents: &["Bản kê tài sản", "Biên bản kiểm kê", "Dự toán kinh phí"],
        applicants: &[O],
    },
    DeptSpec {
        name: "Sở Nội vụ",
        abbrev: "NV",
        count: 75,
        fields: &[
            (
                "Tổ chức phi chính phủ",
                &[
                    "Quyết định công nhận điều lệ quỹ xã hội, quỹ từ thiện",
                    "Giấy phép thành lập quỹ xã hội, quỹ từ thiện",
                    "Quyết định công nhận ban vận động thành lập hội",
                    "Quyết định phê duyệt điều lệ hội",
                ],
            ),
            (
                "Tôn giáo",
                &[
                    "Văn bản chấp thuận sinh hoạt tôn giáo tập trung",
                    "Văn bản chấp thuận tổ chức hội nghị thường niên của tổ chức tôn giáo",
                ],
            ),
            (
                "Thi đua, khen thưởng",
                &[
                    "Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh",
                    "Danh hiệu Chiến sĩ thi đua cấp tỉnh",
                ],
            ),
            (
                "Văn thư, lưu trữ",
                &["Chứng chỉ hành nghề lưu trữ", "Bản sao tài liệu lưu trữ"],
            ),
        ],
        documents: &[
            "Dự thảo điều lệ",
            "Danh sách thành viên ban vận động",
            "Báo cáo thành tích",
        ],
        applicants: &[C, O],
    },
    DeptSpec {
        name: "Sở Khoa học và Công nghệ",
        abbrev: "KHCN",
        count: 45,
        fields: &[
            (
                "Hoạt động khoa học và công nghệ",
                &[
                    "Giấy chứng nhận đăng ký hoạt động khoa học và công nghệ",
                    "Giấy chứng nhận doanh nghiệp khoa học và công nghệ",
                ],
            ),
            (
                "An toàn bức xạ và hạt nhân",
                &[
                    "Giấy đăng ký dịch vụ hỗ trợ ứng dụng năng lượng nguyên tử",
                    "Chứng chỉ nhân viên bức xạ",
                ],
            ),
            (
                "Tiêu chuẩn đo lường chất lượng",
                &[
                    "Giấy chứng nhận đăng ký hoạt động thử nghiệm",
                    "Quyết định chỉ định tổ chức kiểm định phương tiện đo",
                ],
            ),
        ],
        documents: &[
            "Thuyết minh năng lực",
            "Bản sao văn bằng của nhân lực",
            "Bản kê trang thiết bị",
        ],
        applicants: &[O],
    },
];

/// Actions combined with each licence to name generated procedures.
const ACTIONS: &[&str] = &[
    "Cấp",
    "Cấp lại",
    "Cấp điều chỉnh",
    "Gia hạn",
    "Cấp đổi",
    "Sửa đổi, bổ sung",
    "Thu hồi",
    "Chấm dứt hiệu lực",
];

/// A real, common procedure modelled closely: (department index, field index, name,
/// processing time, fee items, documents, results, legal basis, applicants, level 1–4).
struct RealSpec {
    dept: usize,
    field: usize,
    name: &'static str,
    time: ProcessingTime,
    fees: &'static [(FeeKind, &'static str, u64, Option<&'static str>)],
    documents: &'static [(&'static str, u16, u16, bool, Option<&'static str>)],
    results: &'static [&'static str],
    legal: &'static [&'static str],
    applicants: &'static [ApplicantKind],
    level: u8,
}

const fn d(n: u32) -> ProcessingTime {
    ProcessingTime::days(n)
}
use FeeKind::{Charge as LP, Fee as PHI};

const ID_COPY: (&str, u16, u16, bool, Option<&str>) = ("Bản sao Căn cước công dân hoặc Hộ chiếu", 0, 1, true, None);
const ERC_COPY: (&str, u16, u16, bool, Option<&str>) =
    ("Bản sao Giấy chứng nhận đăng ký doanh nghiệp", 0, 1, true, None);
const BUSINESS_LAW: &str = "Luật Doanh nghiệp số 59/2020/QH14";
const BUSINESS_DECREE: &str = "Nghị định số 01/2021/NĐ-CP về đăng ký doanh nghiệp";

const REAL: &[RealSpec] = &[
    RealSpec {
        dept: 0,
        field: 0,
        name: "Đăng ký thành lập công ty trách nhiệm hữu hạn một thành viên",
        time: d(3),
        fees: &[
            (LP, "Lệ phí đăng ký doanh nghiệp", 50_000, None),
            (PHI, "Phí công bố nội dung đăng ký doanh nghiệp", 100_000, None),
        ],
        documents: &[
            ("Giấy đề nghị đăng ký doanh nghiệp", 1, 0, true, Some("Phụ lục I-2")),
            ("Điều lệ công ty", 1, 0, true, None),
            (
                "Bản sao giấy tờ pháp lý của cá nhân đối với chủ sở hữu công ty",
                0,
                1,
                true,
                None,
            ),
            ("Văn bản ủy quyền cho người đi làm thủ tục", 1, 0, false, None),
        ],
        results: &["Giấy chứng nhận đăng ký doanh nghiệp"],
        legal: &[BUSINESS_LAW, BUSINESS_DECREE],
        applicants: &[C, O],
        level: 4,
    },
    RealSpec {
        dept: 0,
        field: 0,
        name: "Đăng ký thành lập công ty cổ phần",
        time: d(3),
        fees: &[
            (LP, "Lệ phí đăng ký doanh nghiệp", 50_000, None),
            (PHI, "Phí công bố nội dung đăng ký doanh nghiệp", 100_000, None),
        ],
        documents: &[
            ("Giấy đề nghị đăng ký doanh nghiệp", 1, 0, true, Some("Phụ lục I-4")),
            ("Điều lệ công ty", 1, 0, true, None),
            ("Danh sách cổ đông sáng lập", 1, 0, true, Some("Phụ lục I-7")),
            (
                "Bản sao giấy tờ pháp lý của cá nhân đối với cổ đông sáng lập",
                0,
                1,
                true,
                None,
            ),
        ],
        results: &["Giấy chứng nhận đăng ký doanh nghiệp"],
        legal: &[BUSINESS_LAW, BUSINESS_DECREE],
        applicants: &[C, O],
        level: 4,
    },
    RealSpec {
        dept: 0,
        field: 0,
        name: "Đăng ký doanh nghiệp tư nhân",
        time: d(3),
        fees: &[
            (LP, "Lệ phí đăng ký doanh nghiệp", 50_000, None),
            (PHI, "Phí công bố nội dung đăng ký doanh nghiệp", 100_000, None),
        ],
        documents: &[
            ("Giấy đề nghị đăng ký doanh nghiệp", 1, 0, true, Some("Phụ lục I-1")),
            (
                "Bản sao giấy tờ pháp lý của cá nhân đối với chủ doanh nghiệp tư nhân",
                0,
                1,
                true,
                None,
            ),
        ],
        results: &["Giấy chứng nhận đăng ký doanh nghiệp"],
        legal: &[BUSINESS_LAW, BUSINESS_DECREE],
        applicants: &[C],
        level: 4,
    },
    RealSpec {
        dept: 0,
        field: 0,
        name: "Đăng ký thay đổi người đại diện theo pháp luật của công ty trách nhiệm hữu hạn, công ty cổ phần",
        time: d(3),
        fees: &[
            (LP, "Lệ phí đăng ký doanh nghiệp", 50_000, None),
            (PHI, "Phí công bố nội dung đăng ký doanh nghiệp", 100_000, None),
        ],
        documents: &[
            (
                "Thông báo thay đổi nội dung đăng ký doanh nghiệp",
                1,
                0,
                true,
                Some("Phụ lục II-1"),
            ),
            (
                "Nghị quyết, quyết định của chủ sở hữu, Hội đồng thành viên hoặc Đại hội đồng cổ đông",
                1,
                0,
                true,
                None,
            ),
            (
                "Bản sao giấy tờ pháp lý của người đại diện theo pháp luật mới",
                0,
                1,
                true,
                None,
            ),
        ],
        results: &["Giấy chứng nhận đăng ký doanh nghiệp"],
        legal: &[BUSINESS_LAW, BUSINESS_DECREE],
        applicants: &[O],
        level: 4,
    },
    RealSpec {
        dept: 0,
        field: 0,
        name: "Thông báo thay đổi ngành, nghề kinh doanh",
        time: d(3),
        fees: &[(PHI, "Phí công bố nội dung đăng ký doanh nghiệp", 100_000, None)],
        documents: &[
            (
                "Thông báo thay đổi nội dung đăng ký doanh nghiệp",
                1,
                0,
                true,
                Some("Phụ lục II-1"),
            ),
            (
                "Nghị quyết, quyết định về việc bổ sung, thay đổi ngành, nghề kinh doanh",
                1,
                0,
                true,
                None,
            ),
        ],
        results: &["Giấy xác nhận về việc thay đổi nội dung đăng ký doanh nghiệp"],
        legal: &[BUSINESS_LAW, BUSINESS_DECREE],
        applicants: &[O],
        level: 4,
    },
    RealSpec {
        dept: 0,
        field: 0,
        name: "Đăng ký hoạt động chi nhánh, văn phòng đại diện, địa điểm kinh doanh",
        time: d(3),
        fees: &[(
            LP,
            "Lệ phí đăng ký hoạt động chi nhánh, văn phòng đại diện",
            50_000,
            None,
        )],
        documents: &[
            (
                "Thông báo thành lập chi nhánh, văn phòng đại diện, địa điểm kinh doanh",
                1,
                0,
                true,
                Some("Phụ lục II-7"),
            ),
            (
                "Bản sao giấy tờ pháp lý của người đứng đầu chi nhánh, văn phòng đại diện",
                0,
                1,
                true,
                None,
            ),
        ],
        results: &["Giấy chứng nhận đăng ký hoạt động chi nhánh, văn phòng đại diện"],
        legal: &[BUSINESS_LAW, BUSINESS_DECREE],
        applicants: &[O],
        level: 4,
    },
    RealSpec {
        dept: 1,
        field: 6,
        name: "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam",
        time: d(10),
        fees: &[
            (PHI, "Phí cấp Phiếu lý lịch tư pháp", 200_000, None),
            (
                PHI,
                "Phí cấp Phiếu lý lịch tư pháp (sinh viên, người có công, thân nhân liệt sĩ)",
                100_000,
                Some("Sinh viên, người có công với cách mạng, thân nhân liệt sĩ"),
            ),
            (
                PHI,
                "Phí cấp Phiếu thứ 3 trở đi",
                5_000,
                Some("Mỗi Phiếu từ Phiếu thứ 3 trở đi"),
            ),
        ],
        documents: &[
            (
                "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp",
                1,
                0,
                true,
                Some("Mẫu số 03/2013/TT-LLTP"),
            ),
            ID_COPY,
            (
                "Bản chụp sổ hộ khẩu hoặc giấy xác nhận thông tin về cư trú",
                0,
                1,
                false,
                None,
            ),
            ("Văn bản ủy quyền (trường hợp ủy quyền)", 1, 0, false, None),
        ],
        results: &["Phiếu lý lịch tư pháp số 1 hoặc số 2"],
        legal: &["Luật Lý lịch tư pháp số 28/2009/QH12", "Thông tư số 244/2016/TT-BTC"],
        applicants: &[C],
        level: 4,
    },
    RealSpec {
        dept: 1,
        field: 0,
        name: "Đăng ký hành nghề và cấp Thẻ công chứng viên",
        time: d(10),
        fees: &[(
            PHI,
            "Phí thẩm định tiêu chuẩn, điều kiện hành nghề công chứng",
            1_000_000,
            None,
        )],
        documents: &[
            (
                "Giấy đề nghị đăng ký hành nghề và cấp Thẻ công chứng viên",
                1,
                0,
                true,
                Some("Mẫu TP-CC-07"),
            ),
            ("Bản sao quyết định bổ nhiệm công chứng viên", 0, 1, true, None),
            (
                "Giấy tờ chứng minh là thành viên hợp danh hoặc hợp đồng lao động với tổ chức hành nghề công chứng",
                0,
                1,
                true,
                None,
            ),
            ("Ảnh chân dung 2x3 cm", 2, 0, true, None),
        ],
        results: &["Thẻ công chứng viên"],
        legal: &["Luật Công chứng số 53/2014/QH13"],
        applicants: &[C],
        level: 3,
    },
    RealSpec {
        dept: 1,
        field: 1,
        name: "Đăng ký hoạt động của tổ chức hành nghề luật sư",
        time: d(10),
        fees: &[(LP, "Lệ phí đăng ký hoạt động", 100_000, None)],
        documents: &[
            ("Giấy đề nghị đăng ký hoạt động", 1, 0, true, Some("Mẫu TP-LS-03")),
            ("Dự thảo điều lệ của công ty luật", 1, 0, false, None),
            ("Bản sao Chứng chỉ hành nghề luật sư, Thẻ luật sư", 0, 1, true, None),
            ("Giấy tờ chứng minh về trụ sở", 0, 1, true, None),
        ],
        results: &["Giấy đăng ký hoạt động của tổ chức hành nghề luật sư"],
        legal: &["Luật Luật sư số 65/2006/QH11 (sửa đổi 2012)"],
        applicants: &[C, O],
        level: 3,
    },
    RealSpec {
        dept: 2,
        field: 0,
        name: "Cấp giấy phép xây dựng mới đối với công trình cấp đặc biệt, cấp I, cấp II (công trình không theo tuyến)",
        time: d(20),
        fees: &[(LP, "Lệ phí cấp giấy phép xây dựng công trình", 150_000, None)],
        documents: &[
            (
                "Đơn đề nghị cấp giấy phép xây dựng",
                1,
                0,
                true,
                Some("Mẫu số 01 Phụ lục II Nghị định 15/2021/NĐ-CP"),
            ),
            ("Bản sao giấy tờ chứng minh quyền sử dụng đất", 0, 1, true, None),
            (
                "Bản sao quyết định phê duyệt dự án, văn bản thẩm định thiết kế",
                0,
                1,
                true,
                None,
            ),
            ("Hai bộ bản vẽ thiết kế xây dựng", 2, 0, true, None),
            (
                "Bản kê khai năng lực, kinh nghiệm của tổ chức, cá nhân thiết kế",
                1,
                0,
                false,
                None,
            ),
        ],
        results: &["Giấy phép xây dựng"],
        legal: &[
            "Luật Xây dựng số 50/2014/QH13 (sửa đổi 2020)",
            "Nghị định số 15/2021/NĐ-CP",
        ],
        applicants: &[O],
        level: 3,
    },
    RealSpec {
        dept: 2,
        field: 0,
        name: "Cấp giấy phép xây dựng sửa chữa, cải tạo đối với công trình cấp đặc biệt, cấp I, cấp II",
        time: d(20),
        fees: &[(LP, "Lệ phí cấp giấy phép xây dựng công trình", 150_000, None)],
        documents: &[
            (
                "Đơn đề nghị cấp giấy phép sửa chữa, cải tạo",
                1,
                0,
                true,
                Some("Mẫu số 01 Phụ lục II Nghị định 15/2021/NĐ-CP"),
            ),
            ("Bản sao giấy tờ chứng minh quyền sở hữu công trình", 0, 1, true, None),
            (
                "Bản vẽ, ảnh chụp hiện trạng bộ phận công trình sửa chữa",
                1,
                0,
                true,
                None,
            ),
            ("Hai bộ bản vẽ thiết kế sửa chữa, cải tạo", 2, 0, true, None),
        ],
        results: &["Giấy phép xây dựng"],
        legal: &[
            "Luật Xây dựng số 50/2014/QH13 (sửa đổi 2020)",
            "Nghị định số 15/2021/NĐ-CP",
        ],
        applicants: &[C, O],
        level: 3,
    },
    RealSpec {
        dept: 2,
        field: 0,
        name: "Cấp giấy phép di dời công trình",
        time: d(20),
        fees: &[(LP, "Lệ phí cấp giấy phép xây dựng công trình", 150_000, None)],
        documents: &[
            ("Đơn đề nghị cấp giấy phép di dời công trình", 1, 0, true, None),
            (
                "Bản sao giấy tờ chứng minh quyền sử dụng đất nơi công trình sẽ di dời đến",
                0,
                1,
                true,
                None,
            ),
            ("Phương án di dời", 1, 0, true, None),
        ],
        results: &["Giấy phép di dời công trình"],
        legal: &["Luật Xây dựng số 50/2014/QH13 (sửa đổi 2020)"],
        applicants: &[C, O],
        level: 3,
    },
    RealSpec {
        dept: 2,
        field: 0,
        name: "Cấp chứng chỉ hành nghề hoạt động xây dựng hạng II, hạng III",
        time: d(20),
        fees: &[
            (LP, "Lệ phí cấp chứng chỉ hành nghề hoạt động xây dựng", 150_000, None),
            (PHI, "Phí sát hạch cấp chứng chỉ hành nghề", 300_000, None),
        ],
        documents: &[
            (
                "Đơn đề nghị cấp chứng chỉ hành nghề",
                1,
                0,
                true,
                Some("Mẫu số 01 Phụ lục IV Nghị định 15/2021/NĐ-CP"),
            ),
            ("Ảnh màu cỡ 4x6 cm", 2, 0, true, None),
            ("Bản sao văn bằng đào tạo chuyên môn", 0, 1, true, None),
            ("Bản khai kinh nghiệm công việc chuyên môn", 1, 0, true, None),
        ],
        results: &["Chứng chỉ hành nghề hoạt động xây dựng"],
        legal: &["Nghị định số 15/2021/NĐ-CP", "Thông tư số 38/2022/TT-BTC"],
        applicants: &[C],
        level: 4,
    },
    RealSpec {
        dept: 3,
        field: 0,
        name: "Đăng ký, cấp Giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn liền với đất lần đầu",
        time: d(30),
        fees: &[
            (LP, "Lệ phí cấp Giấy chứng nhận", 100_000, None),
            (PHI, "Phí thẩm định hồ sơ cấp Giấy chứng nhận", 500_000, None),
        ],
        documents: &[
            ("Đơn đăng ký, cấp Giấy chứng nhận", 1, 0, true, Some("Mẫu số 04a/ĐK")),
            ("Giấy tờ về quyền sử dụng đất", 1, 0, true, None),
            ("Sơ đồ nhà ở, công trình xây dựng", 1, 0, false, None),
            ("Chứng từ thực hiện nghĩa vụ tài chính", 0, 1, false, None),
        ],
        results: &["Giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn liền với đất"],
        legal: &["Luật Đất đai số 45/2013/QH13", "Nghị định số 43/2014/NĐ-CP"],
        applicants: &[O],
        level: 2,
    },
    RealSpec {
        dept: 3,
        field: 0,
        name: "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất do chuyển nhượng, tặng cho",
        time: d(10),
        fees: &[
            (LP, "Lệ phí chỉnh lý biến động", 30_000, None),
            (PHI, "Phí thẩm định hồ sơ", 300_000, None),
        ],
        documents: &[
            (
                "Đơn đăng ký biến động đất đai, tài sản gắn liền với đất",
                1,
                0,
                true,
                Some("Mẫu số 09/ĐK"),
            ),
            ("Hợp đồng chuyển nhượng, tặng cho đã công chứng", 1, 0, true, None),
            ("Bản gốc Giấy chứng nhận đã cấp", 1, 0, true, None),
        ],
        results: &["Giấy chứng nhận đã chỉnh lý biến động hoặc Giấy chứng nhận mới"],
        legal: &["Luật Đất đai số 45/2013/QH13", "Nghị định số 43/2014/NĐ-CP"],
        applicants: &[C, O],
        level: 3,
    },
    RealSpec {
        dept: 3,
        field: 1,
        name: "Cấp giấy phép khai thác, sử dụng nước dưới đất đối với công trình có lưu lượng dưới 3.000 m³/ngày đêm",
        time: d(30),
        fees: &[(
            PHI,
            "Phí thẩm định đề án khai thác, sử dụng nước dưới đất",
            1_500_000,
            None,
        )],
        documents: &[
            (
                "Đơn đề nghị cấp giấy phép khai thác, sử dụng nước dưới đất",
                1,
                0,
                true,
                Some("Mẫu 03"),
            ),
            (
                "Báo cáo kết quả thăm dò đánh giá trữ lượng nước dưới đất",
                1,
                0,
                true,
                None,
            ),
            ("Kết quả phân tích chất lượng nguồn nước", 1, 0, true, None),
        ],
        results: &["Giấy phép khai thác, sử dụng nước dưới đất"],
        legal: &["Luật Tài nguyên nước số 17/2012/QH13", "Nghị định số 201/2013/NĐ-CP"],
        applicants: &[C, O],
        level: 3,
    },
    RealSpec {
        dept: 3,
        field: 2,
        name: "Thẩm định, phê duyệt báo cáo đánh giá tác động môi trường",
        time: d(30),
        fees: &[
            (
                PHI,
                "Phí thẩm định báo cáo đánh giá tác động môi trường",
                5_000_000,
                Some("Dự án có tổng vốn đầu tư dưới 50 tỷ đồng"),
            ),
            (
                PHI,
                "Phí thẩm định báo cáo đánh giá tác động môi trường",
                6_500_000,
                Some("Dự án có tổng vốn đầu tư từ 50 đến dưới 100 tỷ đồng"),
            ),
        ],
        documents: &[
            (
                "Văn bản đề nghị thẩm định báo cáo đánh giá tác động môi trường",
                1,
                0,
                true,
                None,
            ),
            ("Báo cáo đánh giá tác động môi trường", 7, 0, true, None),
            ("Báo cáo nghiên cứu khả thi của dự án", 1, 0, true, None),
        ],
        results: &["Quyết định phê duyệt kết quả thẩm định báo cáo đánh giá tác động môi trường"],
        legal: &["Luật Bảo vệ môi trường số 72/2020/QH14"],
        applicants: &[O],
        level: 3,
    },
    RealSpec {
        dept: 4,
        field: 0,
        name: "Đổi giấy phép lái xe do ngành Giao thông vận tải cấp",
        time: d(5),
        fees: &[(LP, "Lệ phí cấp giấy phép lái xe", 135_000, None)],
        documents: &[
            (
                "Đơn đề nghị đổi giấy phép lái xe",
                1,
                0,
                true,
                Some("Phụ lục 19 Thông tư 12/2017/TT-BGTVT"),
            ),
            ("Giấy khám sức khỏe của người lái xe", 1, 0, true, None),
            ("Bản sao giấy phép lái xe", 0, 1, true, None),
            ID_COPY,
        ],
        results: &["Giấy phép lái xe"],
        legal: &[
            "Luật Giao thông đường bộ số 23/2008/QH12",
            "Thông tư số 12/2017/TT-BGTVT",
        ],
        applicants: &[C],
        level: 4,
    },
    RealSpec {
        dept: 4,
        field: 0,
        name: "Cấp lại giấy phép lái xe",
        time: d(10),
        fees: &[
            (LP, "Lệ phí cấp giấy phép lái xe", 135_000, None),
            (
                PHI,
                "Phí sát hạch lý thuyết (nếu phải sát hạch lại)",
                90_000,
                Some("Quá hạn trên 3 tháng"),
            ),
        ],
        documents: &[
            (
                "Đơn đề nghị cấp lại giấy phép lái xe",
                1,
                0,
                true,
                Some("Phụ lục 19 Thông tư 12/2017/TT-BGTVT"),
            ),
            ("Giấy khám sức khỏe của người lái xe", 1, 0, true, None),
            ID_COPY,
        ],
        results: &["Giấy phép lái xe"],
        legal: &["Thông tư số 12/2017/TT-BGTVT"],
        applicants: &[C],
        level: 3,
    },
    RealSpec {
        dept: 4,
        field: 0,
        name: "Đổi giấy phép lái xe hoặc bằng lái xe của nước ngoài cấp",
        time: d(5),
        fees: &[(LP, "Lệ phí cấp giấy phép lái xe", 135_000, None)],
        documents: &[
            (
                "Đơn đề nghị đổi giấy phép lái xe",
                1,
                0,
                true,
                Some("Phụ lục 19 Thông tư 12/2017/TT-BGTVT"),
            ),
            (
                "Bản dịch giấy phép lái xe nước ngoài ra tiếng Việt có chứng thực",
                1,
                0,
                true,
                None,
            ),
            ("Bản sao hộ chiếu, thị thực, thẻ tạm trú", 0, 1, true, None),
        ],
        results: &["Giấy phép lái xe"],
        legal: &["Thông tư số 12/2017/TT-BGTVT"],
        applicants: &[C],
        level: 3,
    },
    RealSpec {
        dept: 4,
        field: 3,
        name: "Cấp Giấy phép kinh doanh vận tải bằng xe ô tô",
        time: d(5),
        fees: &[(LP, "Lệ phí cấp giấy phép kinh doanh vận tải", 200_000, None)],
        documents: &[
            (
                "Giấy đề nghị cấp Giấy phép kinh doanh vận tải bằng xe ô tô",
                1,
                0,
                true,
                Some("Phụ lục I Nghị định 10/2020/NĐ-CP"),
            ),
            (
                "Bản sao văn bằng, chứng chỉ của người trực tiếp điều hành vận tải",
                0,
                1,
                true,
                None,
            ),
            ("Phương án kinh doanh vận tải", 1, 0, true, None),
        ],
        results: &["Giấy phép kinh doanh vận tải bằng xe ô tô"],
        legal: &["Nghị định số 10/2020/NĐ-CP"],
        applicants: &[C, O],
        level: 4,
    },
    RealSpec {
        dept: 4,
        field: 3,
        name: "Cấp phù hiệu cho xe ô tô kinh doanh vận tải",
        time: d(2),
        fees: &[],
        documents: &[
            (
                "Giấy đề nghị cấp phù hiệu",
                1,
                0,
                true,
                Some("Phụ lục V Nghị định 10/2020/NĐ-CP"),
            ),
            ("Bản sao giấy đăng ký xe ô tô", 0, 1, true, None),
        ],
        results: &["Phù hiệu xe ô tô kinh doanh vận tải"],
        legal: &["Nghị định số 10/2020/NĐ-CP", "Thông tư số 12/2020/TT-BGTVT"],
        applicants: &[O],
        level: 4,
    },
    RealSpec {
        dept: 5,
        field: 0,
        name: "Cấp Giấy chứng nhận cửa hàng đủ điều kiện bán lẻ xăng dầu",
        time: d(15),
        fees: &[
            (
                PHI,
                "Phí thẩm định điều kiện kinh doanh xăng dầu",
                1_200_000,
                Some("Khu vực thành phố"),
            ),
            (
                PHI,
                "Phí thẩm định điều kiện kinh doanh xăng dầu",
                600_000,
                Some("Khu vực khác"),
            ),
        ],
        documents: &[
            (
                "Đơn đề nghị cấp Giấy chứng nhận cửa hàng đủ điều kiện bán lẻ xăng dầu",
                1,
                0,
                true,
                Some("Mẫu số 06 Nghị định 83/2014/NĐ-CP"),
            ),
            ERC_COPY,
            (
                "Bản sao tài liệu chứng minh cửa hàng phù hợp quy hoạch",
                0,
                1,
                true,
                None,
            ),
            (
                "Bản sao giấy chứng nhận huấn luyện nghiệp vụ phòng cháy, chữa cháy",
                0,
                1,
                true,
                None,
            ),
        ],
        results: &["Giấy chứng nhận cửa hàng đủ điều kiện bán lẻ xăng dầu"],
        legal: &["Nghị định số 83/2014/NĐ-CP", "Thông tư số 168/2016/TT-BTC"],
        applicants: &[O],
        level: 3,
    },
    RealSpec {
        dept: 5,
        field: 0,
        name: "Cấp Giấy phép bán buôn sản phẩm rượu",
        time: d(15),
        fees: &[(PHI, "Phí thẩm định điều kiện kinh doanh bán buôn rượu", 1_100_000, None)],
        documents: &[
            (
                "Đơn đề nghị cấp Giấy phép bán buôn sản phẩm rượu",
                1,
                0,
                true,
                Some("Mẫu số 01 Nghị định 105/2017/NĐ-CP"),
            ),
            ERC_COPY,
            ("Bản sao hợp đồng thuê kho hàng", 0, 1, true, None),
            (
                "Bản sao văn bản giới thiệu của nhà sản xuất hoặc nhà phân phối",
                0,
                1,
                true,
                None,
            ),
        ],
        results: &["Giấy phép bán buôn sản phẩm rượu"],
        legal: &["Nghị định số 105/2017/NĐ-CP"],
        applicants: &[O],
        level: 3,
    },
    RealSpec {
        dept: 7,
        field: 0,
        name: "Cấp chứng chỉ hành nghề khám bệnh, chữa bệnh đối với người Việt Nam",
        time: d(30),
        fees: &[(PHI, "Phí thẩm định cấp chứng chỉ hành nghề", 360_000, None)],
        documents: &[
            (
                "Đơn đề nghị cấp chứng chỉ hành nghề",
                1,
                0,
                true,
                Some("Mẫu 01 Phụ lục XI Nghị định 109/2016/NĐ-CP"),
            ),
            ("Bản sao văn bằng chuyên môn", 0, 1, true, None),
            ("Giấy xác nhận quá trình thực hành", 1, 0, true, None),
            ("Giấy chứng nhận đủ sức khỏe để hành nghề", 1, 0, true, None),
            ("Hai ảnh màu 04 cm x 06 cm", 2, 0, true, None),
        ],
        results: &["Chứng chỉ hành nghề khám bệnh, chữa bệnh"],
        legal: &[
            "Luật Khám bệnh, chữa bệnh số 40/2009/QH12",
            "Nghị định số 109/2016/NĐ-CP",
        ],
        applicants: &[C],
        level: 3,
    },
    RealSpec {
        dept: 7,
        field: 1,
        name: "Cấp Chứng chỉ hành nghề dược",
        time: d(20),
        fees: &[(PHI, "Phí thẩm định cấp chứng chỉ hành nghề dược", 500_000, None)],
        documents: &[
            (
                "Đơn đề nghị cấp Chứng chỉ hành nghề dược",
                1,
                0,
                true,
                Some("Mẫu số 02 Phụ lục I Nghị định 54/2017/NĐ-CP"),
            ),
            ("Bản sao văn bằng chuyên môn", 0, 1, true, None),
            ("Giấy xác nhận thời gian thực hành", 1, 0, true, None),
            ("Giấy chứng nhận đủ sức khỏe", 1, 0, true, None),
        ],
        results: &["Chứng chỉ hành nghề dược"],
        legal: &["Luật Dược số 105/2016/QH13", "Nghị định số 54/2017/NĐ-CP"],
        applicants: &[C],
        level: 3,
    },
    RealSpec {
        dept: 7,
        field: 1,
        name: "Cấp Giấy chứng nhận đủ điều kiện kinh doanh dược cho nhà thuốc",
        time: d(20),
        fees: &[(PHI, "Phí thẩm định điều kiện kinh doanh thuốc", 1_000_000, None)],
        documents: &[
            (
                "Đơn đề nghị cấp Giấy chứng nhận đủ điều kiện kinh doanh dược",
                1,
                0,
                true,
                Some("Mẫu số 19 Phụ lục I Nghị định 54/2017/NĐ-CP"),
            ),
            (
                "Tài liệu kỹ thuật tương ứng với cơ sở kinh doanh dược",
                1,
                0,
                true,
                None,
            ),
            (
                "Bản sao Chứng chỉ hành nghề dược của người phụ trách chuyên môn",
                0,
                1,
                true,
                None,
            ),
        ],
        results: &["Giấy chứng nhận đủ điều kiện kinh doanh dược"],
        legal: &["Luật Dược số 105/2016/QH13", "Nghị định số 54/2017/NĐ-CP"],
        applicants: &[C, O],
        level: 3,
    },
    RealSpec {
        dept: 7,
        field: 3,
        name: "Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm đối với cơ sở kinh doanh dịch vụ ăn uống",
        time: d(20),
        fees: &[
            (
                PHI,
                "Phí thẩm định cơ sở kinh doanh dịch vụ ăn uống",
                700_000,
                Some("Phục vụ từ 200 suất ăn trở xuống"),
            ),
            (
                PHI,
                "Phí thẩm định cơ sở kinh doanh dịch vụ ăn uống",
                1_000_000,
                Some("Phục vụ trên 200 suất ăn"),
            ),
        ],
        documents: &[
            (
                "Đơn đề nghị cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm",
                1,
                0,
                true,
                None,
            ),
            ("Bản thuyết minh về cơ sở vật chất, trang thiết bị", 1, 0, true, None),
            (
                "Giấy xác nhận đủ sức khỏe của chủ cơ sở và người trực tiếp kinh doanh",
                0,
                1,
                true,
                None,
            ),
            ERC_COPY,
        ],
        results: &["Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm"],
        legal: &["Luật An toàn thực phẩm số 55/2010/QH12", "Nghị định số 15/2018/NĐ-CP"],
        applicants: &[C, O],
        level: 3,
    },
    RealSpec {
        dept: 8,
        field: 0,
        name: "Chuyển trường đối với học sinh trung học phổ thông",
        time: d(3),
        fees: &[],
        documents: &[
            (
                "Đơn xin chuyển trường do cha mẹ hoặc người giám hộ ký",
                1,
                0,
                true,
                None,
            ),
            ("Học bạ", 1, 0, true, None),
            ("Giấy chứng nhận trúng tuyển vào lớp 10", 1, 0, true, None),
            ("Giấy giới thiệu chuyển trường", 1, 0, true, None),
        ],
        results: &["Giấy tiếp nhận học sinh chuyển trường"],
        legal: &["Thông tư số 32/2020/TT-BGDĐT"],
        applicants: &[C],
        level: 3,
    },
    RealSpec {
        dept: 8,
        field: 2,
        name: "Phúc khảo bài thi tốt nghiệp trung học phổ thông",
        time: d(15),
        fees: &[(PHI, "Phí phúc khảo một bài thi", 30_000, None)],
        documents: &[("Đơn đề nghị phúc khảo bài thi", 1, 0, true, None)],
        results: &["Thông báo kết quả phúc khảo"],
        legal: &["Thông tư số 15/2020/TT-BGDĐT"],
        applicants: &[C],
        level: 4,
    },
    RealSpec {
        dept: 9,
        field: 0,
        name: "Cấp giấy phép lao động cho người lao động nước ngoài làm việc tại Việt Nam",
        time: d(5),
        fees: &[(LP, "Lệ phí cấp giấy phép lao động", 600_000, None)],
        documents: &[
            (
                "Văn bản đề nghị cấp giấy phép lao động",
                1,
                0,
                true,
                Some("Mẫu số 11/PLI Nghị định 152/2020/NĐ-CP"),
            ),
            ("Giấy chứng nhận sức khỏe", 1, 0, true, None),
            ("Phiếu lý lịch tư pháp", 1, 0, true, None),
            (
                "Văn bản chấp thuận nhu cầu sử dụng người lao động nước ngoài",
                0,
                1,
                true,
                None,
            ),
            ("Hai ảnh màu 4 cm x 6 cm", 2, 0, true, None),
            ("Bản sao hộ chiếu còn giá trị", 0, 1, true, None),
        ],
        results: &["Giấy phép lao động"],
        legal: &["Bộ luật Lao động số 45/2019/QH14", "Nghị định số 152/2020/NĐ-CP"],
        applicants: &[O],
        level: 4,
    },
    RealSpec {
        dept: 9,
        field: 0,
        name: "Xác nhận người lao động nước ngoài không thuộc diện cấp giấy phép lao động",
        time: d(3),
        fees: &[],
        documents: &[
            (
                "Văn bản đề nghị xác nhận",
                1,
                0,
                true,
                Some("Mẫu số 09/PLI Nghị định 152/2020/NĐ-CP"),
            ),
            (
                "Giấy tờ chứng minh người lao động nước ngoài không thuộc diện cấp giấy phép lao động",
                0,
                1,
                true,
                None,
            ),
            ("Bản sao hộ chiếu còn giá trị", 0, 1, true, None),
        ],
        results: &["Văn bản xác nhận không thuộc diện cấp giấy phép lao động"],
        legal: &["Nghị định số 152/2020/NĐ-CP"],
        applicants: &[O],
        level: 4,
    },
    RealSpec {
        dept: 9,
        field: 1,
        name: "Giải quyết chế độ trợ cấp một lần đối với thân nhân người có công với cách mạng từ trần",
        time: d(12),
        fees: &[],
        documents: &[
            ("Bản khai của thân nhân", 1, 0, true, Some("Mẫu TT1")),
            ("Bản sao giấy chứng tử", 0, 1, true, None),
            ("Biên bản ủy quyền của các thân nhân", 1, 0, false, None),
        ],
        results: &["Quyết định trợ cấp một lần"],
        legal: &["Pháp lệnh ưu đãi người có công với cách mạng số 02/2020/UBTVQH14"],
        applicants: &[C],
        level: 2,
    },
    RealSpec {
        dept: 10,
        field: 0,
        name: "Cấp Giấy phép kinh doanh dịch vụ lữ hành nội địa",
        time: d(10),
        fees: &[(
            PHI,
            "Phí thẩm định cấp giấy phép kinh doanh dịch vụ lữ hành nội địa",
            3_000_000,
            None,
        )],
        documents: &[
            (
                "Đơn đề nghị cấp Giấy phép kinh doanh dịch vụ lữ hành",
                1,
                0,
                true,
                Some("Mẫu số 02 Thông tư 06/2017/TT-BVHTTDL"),
            ),
            ERC_COPY,
            ("Giấy chứng nhận ký quỹ kinh doanh dịch vụ lữ hành", 1, 0, true, None),
            (
                "Bản sao văn bằng của người phụ trách kinh doanh dịch vụ lữ hành",
                0,
                1,
                true,
                None,
            ),
        ],
        results: &["Giấy phép kinh doanh dịch vụ lữ hành nội địa"],
        legal: &["Luật Du lịch số 09/2017/QH14"],
        applicants: &[O],
        level: 4,
    },
    RealSpec {
        dept: 10,
        field: 0,
        name: "Cấp thẻ hướng dẫn viên du lịch tại điểm",
        time: d(10),
        fees: &[(
            PHI,
            "Phí thẩm định cấp thẻ hướng dẫn viên du lịch tại điểm",
            200_000,
            None,
        )],
        documents: &[
            (
                "Đơn đề nghị cấp thẻ hướng dẫn viên du lịch",
                1,
                0,
                true,
                Some("Mẫu số 03 Thông tư 06/2017/TT-BVHTTDL"),
            ),
            ("Sơ yếu lý lịch có xác nhận", 1, 0, true, None),
            ("Giấy chứng nhận sức khỏe", 1, 0, true, None),
            ("Hai ảnh chân dung màu cỡ 3 cm x 4 cm", 2, 0, true, None),
        ],
        results: &["Thẻ hướng dẫn viên du lịch tại điểm"],
        legal: &["Luật Du lịch số 09/2017/QH14"],
        applicants: &[C],
        level: 4,
    },
    RealSpec {
        dept: 10,
        field: 1,
        name: "Cấp Giấy phép đủ điều kiện kinh doanh dịch vụ karaoke",
        time: d(5),
        fees: &[
            (
                PHI,
                "Phí thẩm định cấp giấy phép kinh doanh karaoke (đến 3 phòng)",
                4_000_000,
                Some("Đến 3 phòng"),
            ),
            (
                PHI,
                "Phí thẩm định cấp giấy phép kinh doanh karaoke (từ 4 đến 5 phòng)",
                6_000_000,
                Some("Từ 4 đến 5 phòng"),
            ),
        ],
        documents: &[
            (
                "Đơn đề nghị cấp Giấy phép đủ điều kiện kinh doanh dịch vụ karaoke",
                1,
                0,
                true,
                Some("Mẫu số 01 Nghị định 54/2019/NĐ-CP"),
            ),
            ERC_COPY,
            (
                "Bản sao Giấy chứng nhận đủ điều kiện về phòng cháy và chữa cháy",
                0,
                1,
                true,
                None,
            ),
        ],
        results: &["Giấy phép đủ điều kiện kinh doanh dịch vụ karaoke"],
        legal: &["Nghị định số 54/2019/NĐ-CP"],
        applicants: &[C, O],
        level: 3,
    },
    RealSpec {
        dept: 11,
        field: 1,
        name: "Cấp giấy phép xuất bản bản tin",
        time: d(15),
        fees: &[],
        documents: &[
            (
                "Tờ khai đề nghị cấp giấy phép xuất bản bản tin",
                1,
                0,
                true,
                Some("Mẫu số 24 Thông tư 41/2020/TT-BTTTT"),
            ),
            ("Mẫu trình bày tên bản tin", 1, 0, true, None),
            (
                "Bản sao văn bằng của người chịu trách nhiệm xuất bản bản tin",
                0,
                1,
                true,
                None,
            ),
        ],
        results: &["Giấy phép xuất bản bản tin"],
        legal: &["Luật Báo chí số 103/2016/QH13"],
        applicants: &[O],
        level: 3,
    },
    RealSpec {
        dept: 13,
        field: 0,
        name: "Thủ tục thành lập hội",
        time: d(30),
        fees: &[],
        documents: &[
            ("Đơn đề nghị thành lập hội", 1, 0, true, None),
            ("Dự thảo điều lệ hội", 1, 0, true, None),
            ("Danh sách những người trong ban lãnh đạo lâm thời", 1, 0, true, None),
            ("Văn bản xác nhận nơi dự kiến đặt trụ sở của hội", 1, 0, true, None),
        ],
        results: &["Quyết định cho phép thành lập hội"],
        legal: &["Nghị định số 45/2010/NĐ-CP về tổ chức, hoạt động và quản lý hội"],
        applicants: &[C, O],
        level: 2,
    },
    RealSpec {
        dept: 14,
        field: 1,
        name: "Cấp giấy phép tiến hành công việc bức xạ sử dụng thiết bị X-quang chẩn đoán trong y tế",
        time: d(15),
        fees: &[
            (
                PHI,
                "Phí thẩm định an toàn bức xạ thiết bị X-quang chẩn đoán",
                2_000_000,
                None,
            ),
            (LP, "Lệ phí cấp giấy phép tiến hành công việc bức xạ", 200_000, None),
        ],
        documents: &[
            (
                "Đơn đề nghị cấp giấy phép",
                1,
                0,
                true,
                Some("Mẫu số 01 Thông tư 08/2010/TT-BKHCN"),
            ),
            ("Phiếu khai báo thiết bị X-quang", 1, 0, true, None),
            ("Báo cáo đánh giá an toàn", 1, 0, true, None),
            ("Bản sao chứng chỉ nhân viên bức xạ", 0, 1, true, None),
        ],
        results: &["Giấy phép tiến hành công việc bức xạ"],
        legal: &["Luật Năng lượng nguyên tử số 18/2008/QH12"],
        applicants: &[C, O],
        level: 3,
    },
];

/// Builds the steps for a processing time: reception, examination, approval, return.
fn steps_for(time: ProcessingTime) -> Vec<ProcessingStep> {
    let total = time.working_hours();
    let step = |name: &str, role, budget_hours| ProcessingStep {
        name: name.to_owned(),
        role,
        agency: None,
        budget_hours,
    };
    if total < 8 {
        // Same-day procedures: one hour at each end, the rest split.
        let leader = (total.saturating_sub(2) / 3).max(1);
        let officer = total.saturating_sub(2 + leader);
        return vec![
            step("Tiếp nhận và chuyển hồ sơ", StepRole::Counter, 1),
            step("Thẩm định hồ sơ", StepRole::Officer, officer),
            step("Phê duyệt, ký kết quả", StepRole::Leader, leader),
            step("Trả kết quả", StepRole::Counter, 1),
        ];
    }
    let leader = (total / 5).clamp(4, 16);
    let officer = total - 4 - leader - 4;
    vec![
        step("Tiếp nhận và chuyển hồ sơ về phòng chuyên môn", StepRole::Counter, 4),
        step("Thẩm định hồ sơ, trình lãnh đạo", StepRole::Officer, officer),
        step("Phê duyệt, ký kết quả", StepRole::Leader, leader),
        step("Chuyển kết quả về Trung tâm và trả cho người nộp", StepRole::Counter, 4),
    ]
}

fn online_mode_for(level: u8) -> OnlineMode {
    if level == 4 {
        OnlineMode::Full
    } else {
        OnlineMode::Partial
    }
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn code(n: usize) -> ProcedureCode {
    // Synthetic national-style codes: 1.9NNNNN never collides with real ones (1.00…, 2.00…).
    #[expect(clippy::expect_used, reason = "the format is fixed and valid by construction")]
    ProcedureCode::parse(&format!("1.9{n:05}")).expect("valid synthetic code")
}

fn agency(unit: &str, n: usize) -> AgencyCode {
    #[expect(clippy::expect_used, reason = "the format is fixed and valid by construction")]
    AgencyCode::parse(&format!("000.00.{n:02}.{unit}")).expect("valid agency code")
}

fn field_code(abbrev: &str, n: usize) -> FieldCode {
    #[expect(clippy::expect_used, reason = "the format is fixed and valid by construction")]
    FieldCode::parse(&format!("{abbrev}-{n:02}")).expect("valid field code")
}

/// Builds the demo catalogue of Ninh Thuận.
pub fn ninh_thuan() -> ProvinceCatalogue {
    #[expect(clippy::expect_used, reason = "constant, valid code")]
    let province_code = ProvinceCode::parse(UNIT).expect("valid province");
    let root = province_code.as_agency().clone();
    let centre = agency(UNIT, 16);
    let mut agencies = vec![
        Agency {
            code: root.clone(),
            name: "Ủy ban nhân dân tỉnh Ninh Thuận".to_owned(),
            kind: AgencyKind::Province,
            parent: None,
            address: "450 đường 16 tháng 4, Phan Rang - Tháp Chàm, Ninh Thuận".to_owned(),
            phone: "0259 3822 600".to_owned(),
            email: "ubnd@ninhthuan.gov.vn".to_owned(),
        },
        Agency {
            code: centre.clone(),
            name: "Trung tâm Phục vụ hành chính công tỉnh Ninh Thuận".to_owned(),
            kind: AgencyKind::Centre,
            parent: Some(root.clone()),
            address: "Số 02 đường 16 tháng 4, Phan Rang - Tháp Chàm, Ninh Thuận".to_owned(),
            phone: "0259 3838 555".to_owned(),
            email: "tttthc@ninhthuan.gov.vn".to_owned(),
        },
    ];
    let mut fields = Vec::new();
    let mut rng = Rng(0x4E49_4E48_5448_5541); // "NINHTHUA"
    let mut records = Vec::with_capacity(PROCEDURES);
    let mut serial = 1;

    for (d, spec) in DEPTS.iter().enumerate() {
        let dept_code = agency(UNIT, d + 1);
        agencies.push(Agency {
            code: dept_code.clone(),
            name: spec.name.to_owned(),
            kind: AgencyKind::Department,
            parent: Some(root.clone()),
            address: format!("Phan Rang - Tháp Chàm, Ninh Thuận ({})", spec.name),
            phone: format!("0259 38{:02} {:03}", 20 + d, 100 + d * 7),
            email: format!("{}@ninhthuan.gov.vn", spec.abbrev.to_lowercase()),
        });
        for (f, (name, _)) in spec.fields.iter().enumerate() {
            fields.push(Field {
                code: field_code(spec.abbrev, f + 1),
                name: (*name).to_owned(),
                agency: dept_code.clone(),
            });
        }

        let mut contents: Vec<ProcedureContent> = Vec::with_capacity(spec.count);
        for real in REAL.iter().filter(|r| r.dept == d) {
            contents.push(real_content(real, spec, &dept_code));
        }
        // Generated procedures: walk the licences of every field, action by action,
        // so each department's list mixes its fields as a real catalogue does.
        let objects: Vec<(usize, &str)> = spec
            .fields
            .iter()
            .enumerate()
            .flat_map(|(f, (_, objs))| objs.iter().map(move |o| (f, *o)))
            .collect();
        'fill: for action in ACTIONS {
            for &(f, object) in &objects {
                if contents.len() == spec.count {
                    break 'fill;
                }
                contents.push(generated_content(&mut rng, spec, &dept_code, f, action, object));
            }
        }
        assert_eq!(contents.len(), spec.count, "{} needs more licences", spec.name);
        // Seven procedures per department are received only at the department itself,
        // which gives the centre's published 1,283 of 1,388 (15 × 7 = 105).
        let at_department: Vec<usize> = (0..7).map(|k| spec.count - 1 - k * (spec.count / 8)).collect();
        for (i, mut content) in contents.into_iter().enumerate() {
            content.at_centre = !at_department.contains(&i);
            records.push(ProcedureRecord {
                code: code(serial),
                versions: vec![ProcedureVersion {
                    version: 1,
                    created_at: CREATED_AT,
                    note: "Công bố danh mục khi Trung tâm khai trương".to_owned(),
                    content,
                }],
            });
            serial += 1;
        }
    }

    ProvinceCatalogue {
        province: Province {
            code: province_code,
            name: "Ninh Thuận".to_owned(),
        },
        agencies,
        fields,
        procedures: records,
    }
}

fn real_content(real: &RealSpec, spec: &DeptSpec, dept: &AgencyCode) -> ProcedureContent {
    ProcedureContent {
        name: real.name.to_owned(),
        field: field_code(spec.abbrev, real.field + 1),
        agency: dept.clone(),
        level: Level::Province,
        processing_time: real.time,
        documents: real
            .documents
            .iter()
            .map(|&(name, originals, copies, required, form)| DocumentRequirement {
                name: name.to_owned(),
                originals,
                copies,
                required,
                form: form.map(|f| FormTemplate {
                    name: f.to_owned(),
                    url: String::new(),
                }),
                note: String::new(),
            })
            .collect(),
        sets: 1,
        fees: real
            .fees
            .iter()
            .map(|&(kind, name, amount, option)| FeeItem {
                kind,
                name: name.to_owned(),
                amount: Vnd(amount),
                option: option.map(str::to_owned),
            })
            .collect(),
        results: real.results.iter().map(|s| (*s).to_owned()).collect(),
        legal_basis: real.legal.iter().map(|s| (*s).to_owned()).collect(),
        applicants: real.applicants.to_vec(),
        online_mode: online_mode_for(real.level),
        service_level: real.level,
        at_centre: true,
        steps: steps_for(real.time),
        description: description(spec.name),
        conditions: String::new(),
    }
}

fn description(dept: &str) -> String {
    format!(
        "Bước 1: Tổ chức, cá nhân nộp hồ sơ tại Trung tâm Phục vụ hành chính công tỉnh hoặc trực tuyến trên Cổng dịch vụ công.\n\
         Bước 2: Công chức tiếp nhận kiểm tra hồ sơ, cấp Giấy tiếp nhận hồ sơ và hẹn trả kết quả.\n\
         Bước 3: {dept} thẩm định, giải quyết hồ sơ.\n\
         Bước 4: Tổ chức, cá nhân nhận kết quả tại Trung tâm, qua dịch vụ bưu chính công ích hoặc trực tuyến."
    )
}

fn generated_content(
    rng: &mut Rng,
    spec: &DeptSpec,
    dept: &AgencyCode,
    field: usize,
    action: &str,
    object: &str,
) -> ProcedureContent {
    const DAYS: &[u32] = &[3, 5, 5, 7, 10, 10, 15, 15, 20, 30];
    const AMOUNTS: &[u64] = &[
        50_000, 100_000, 150_000, 200_000, 300_000, 500_000, 1_000_000, 1_500_000, 3_000_000,
    ];
    let name = format!("{action} {}", lowercase_first(object));
    // Revocations and terminations are quicker and free; issuing takes longer than amending.
    let (time, fee) = match action {
        "Thu hồi" | "Chấm dứt hiệu lực" => (ProcessingTime::days(*rng.pick(&[3, 5, 7])), None),
        "Cấp lại" | "Cấp đổi" => (
            ProcessingTime::days(*rng.pick(&[3, 5, 7, 10])),
            Some(*rng.pick(&AMOUNTS[..5])),
        ),
        _ => (ProcessingTime::days(*rng.pick(DAYS)), Some(*rng.pick(AMOUNTS))),
    };
    let applicant_doc = if spec.applicants.contains(&ApplicantKind::Organisation) && rng.below(3) > 0 {
        ERC_COPY
    } else {
        ID_COPY
    };
    let mut documents = vec![
        DocumentRequirement {
            name: format!("Đơn đề nghị {}", lowercase_first(&name)),
            originals: 1,
            copies: 0,
            required: true,
            form: Some(FormTemplate {
                name: format!("Mẫu số {:02}", 1 + rng.below(12)),
                url: String::new(),
            }),
            note: String::new(),
        },
        DocumentRequirement {
            name: applicant_doc.0.to_owned(),
            originals: 0,
            copies: 1,
            required: true,
            form: None,
            note: String::new(),
        },
    ];
    if action != "Cấp" {
        documents.push(DocumentRequirement {
            name: format!("Bản gốc hoặc bản sao {} đã được cấp", lowercase_first(object)),
            originals: u16::from(action != "Cấp lại"),
            copies: u16::from(action == "Cấp lại"),
            required: action != "Cấp lại",
            form: None,
            note: if action == "Cấp lại" {
                "Trường hợp bị mất thì nộp văn bản trình bày lý do".to_owned()
            } else {
                String::new()
            },
        });
    }
    let extra = 1 + rng.below(spec.documents.len());
    for doc in spec.documents.iter().take(extra) {
        documents.push(DocumentRequirement {
            name: (*doc).to_owned(),
            originals: 1,
            copies: 0,
            required: rng.below(4) > 0,
            form: None,
            note: String::new(),
        });
    }
    let fees = fee
        .map(|amount| {
            vec![FeeItem {
                kind: if rng.below(2) == 0 {
                    FeeKind::Fee
                } else {
                    FeeKind::Charge
                },
                name: format!(
                    "{} {}",
                    if amount >= 500_000 {
                        "Phí thẩm định"
                    } else {
                        "Lệ phí"
                    },
                    lowercase_first(&name)
                ),
                amount: Vnd(amount),
                option: None,
            }]
        })
        .unwrap_or_default();
    // About a third fully online, the rest partly: the 2019 mix of levels 2, 3 and 4.
    let level = *rng.pick(&[2, 3, 3, 3, 4, 4]);
    ProcedureContent {
        name,
        field: field_code(spec.abbrev, field + 1),
        agency: dept.clone(),
        level: Level::Province,
        processing_time: time,
        documents,
        sets: 1,
        fees,
        results: vec![if action == "Thu hồi" || action == "Chấm dứt hiệu lực" {
            format!("Quyết định {} {}", lowercase_first(action), lowercase_first(object))
        } else {
            object.to_owned()
        }],
        legal_basis: vec![format!(
            "Quy định chuyên ngành về {}",
            lowercase_first(spec.fields[field].0)
        )],
        applicants: spec.applicants.to_vec(),
        online_mode: online_mode_for(level),
        service_level: level,
        at_centre: true,
        steps: steps_for(time),
        description: description(spec.name),
        conditions: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn published_figures() {
        let cat = ninh_thuan();
        let departments = cat.agencies.iter().filter(|a| a.kind == AgencyKind::Department).count();
        assert_eq!(departments, 15);
        assert_eq!(cat.procedures.len(), PROCEDURES);
        let at_centre = cat
            .procedures
            .iter()
            .filter(|p| p.versions[0].content.at_centre)
            .count();
        assert_eq!(at_centre, AT_CENTRE);
        assert!(REAL.len() >= 30);
    }

    #[test]
    fn deterministic_unique_and_valid() {
        let a = ninh_thuan();
        assert_eq!(a, ninh_thuan());
        let codes: HashSet<_> = a.procedures.iter().map(|p| &p.code).collect();
        assert_eq!(codes.len(), PROCEDURES);
        let names: HashSet<_> = a.procedures.iter().map(|p| &p.versions[0].content.name).collect();
        assert_eq!(names.len(), PROCEDURES, "procedure names must be unique");
        let fields: HashSet<_> = a.fields.iter().map(|f| &f.code).collect();
        for p in &a.procedures {
            let mut c = p.versions[0].content.clone();
            c.normalize().unwrap_or_else(|e| panic!("{}: {e}", p.code));
            assert_eq!(c, p.versions[0].content, "demo text must already be NFC");
            assert!(fields.contains(&c.field));
        }
    }
}
