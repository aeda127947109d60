-- The Decision 766/QĐ-TTg service index as the national portal publishes it (docs/rules.md
-- §6, issue 25 item 2). Migration 15 seeded seven invented sub-criteria (codes on_time,
-- online_share, …); they are replaced by the 21 published ones, numbered as the portal
-- numbers them (1.1 … 5.4), with their points, the rate at which the full points are
-- reached (1000 ‰: linear), what they score when there is nothing to measure, and their
-- source. Edits an administrator made to the invented set are dropped with it (the audit
-- log keeps them): they weighted measures that no longer exist. The rows written here are
-- exactly `motcua_core::evaluation::default_criteria()` (checked by the store's tests).

ALTER TABLE service_index_criteria ADD COLUMN when_empty TEXT NOT NULL DEFAULT 'not_scored';
ALTER TABLE service_index_criteria ADD COLUMN source TEXT NOT NULL DEFAULT '';

DELETE FROM service_index_criteria
WHERE code IN ('public_info', 'on_time', 'online_share', 'online_payment', 'digitised_files', 'digitised_results', 'satisfied');

INSERT INTO service_index_criteria (code, group_code, name, measure, max_points, target_permille, when_empty, source, confirmed, position) VALUES
    ('1.1', 'transparency', 'Tỷ lệ thủ tục hành chính công bố đúng hạn', 'published_on_time', 6, 1000, 'not_scored', 'Quyết định 766/QĐ-TTg ngày 23/6/2022; cách tính theo Cổng Dịch vụ công quốc gia', 1, 1),
    ('1.2', 'transparency', 'Tỷ lệ thủ tục hành chính được cập nhật, công khai đúng hạn', 'updated_on_time', 4, 1000, 'not_scored', 'Quyết định 766/QĐ-TTg ngày 23/6/2022; cách tính theo Cổng Dịch vụ công quốc gia', 1, 2),
    ('1.3', 'transparency', 'Tỷ lệ thủ tục hành chính được công khai có đầy đủ các nội dung quy định về các bộ phận tạo thành của thủ tục hành chính', 'content_complete', 2, 1000, 'not_scored', 'Quyết định 766/QĐ-TTg ngày 23/6/2022; cách tính theo Cổng Dịch vụ công quốc gia; các bộ phận theo khoản 2 Điều 8 Nghị định 63/2010/NĐ-CP', 1, 3),
    ('1.4', 'transparency', 'Tỷ lệ hồ sơ đồng bộ lên Cổng Dịch vụ công quốc gia', 'portal_sync', 6, 1000, 'not_scored', 'Quyết định 766/QĐ-TTg ngày 23/6/2022; cách tính theo Cổng Dịch vụ công quốc gia', 1, 4),
    ('2.1', 'progress', 'Tỷ lệ hồ sơ xử lý trước hạn, đúng hạn', 'on_time', 20, 1000, 'not_scored', 'Quyết định 766/QĐ-TTg ngày 23/6/2022; cách tính theo Cổng Dịch vụ công quốc gia', 1, 5),
    ('3.1', 'online', 'Tỷ lệ thủ tục hành chính cung cấp dịch vụ công trực tuyến', 'online_procedures', 2, 800, 'not_scored', 'Quyết định 766/QĐ-TTg ngày 23/6/2022; cách tính theo Cổng Dịch vụ công quốc gia', 0, 6),
    ('3.2', 'online', 'Tỷ lệ dịch vụ công trực tuyến có phát sinh hồ sơ', 'online_services_used', 4, 1000, 'not_scored', 'Quyết định 766/QĐ-TTg ngày 23/6/2022; cách tính theo Cổng Dịch vụ công quốc gia', 0, 7),
    ('3.3', 'online', 'Tỷ lệ hồ sơ thủ tục hành chính được tiếp nhận trực tuyến', 'online_share', 6, 500, 'not_scored', 'Quyết định 766/QĐ-TTg ngày 23/6/2022; cách tính theo Cổng Dịch vụ công quốc gia', 0, 8),
    ('3.5', 'online', 'Tỷ lệ thủ tục hành chính có yêu cầu nghĩa vụ tài chính được tích hợp để người dân có thể thanh toán trực tuyến', 'payment_integrated', 2, 800, 'not_scored', 'Quyết định 766/QĐ-TTg ngày 23/6/2022; cách tính theo Cổng Dịch vụ công quốc gia', 0, 9),
    ('3.5b', 'online', 'Tỷ lệ thủ tục hành chính có giao dịch thanh toán trực tuyến', 'payment_used', 2, 800, 'not_scored', 'Quyết định 766/QĐ-TTg ngày 23/6/2022; cách tính theo Cổng Dịch vụ công quốc gia', 0, 10),
    ('3.6', 'online', 'Tỷ lệ hồ sơ thanh toán trực tuyến', 'online_payment', 6, 1000, 'not_scored', 'Quyết định 766/QĐ-TTg ngày 23/6/2022; cách tính theo Cổng Dịch vụ công quốc gia', 0, 11),
    ('4.1', 'digitisation', 'Tỷ lệ hồ sơ thủ tục hành chính có cấp kết quả giải quyết thủ tục hành chính điện tử', 'digitised_results', 6, 1000, 'not_scored', 'Quyết định 766/QĐ-TTg ngày 23/6/2022; cách tính theo Cổng Dịch vụ công quốc gia', 1, 12),
    ('4.2', 'digitisation', 'Tỷ lệ hồ sơ thủ tục hành chính thực hiện số hóa hồ sơ', 'digitised_files', 4, 1000, 'not_scored', 'Quyết định 766/QĐ-TTg ngày 23/6/2022; cách tính theo Cổng Dịch vụ công quốc gia', 0, 13),
    ('4.2b', 'digitisation', 'Cung cấp dịch vụ chứng thực bản sao điện tử từ bản chính', 'certified_copies', 2, 1000, 'not_scored', 'Quyết định 766/QĐ-TTg ngày 23/6/2022; cách tính theo Cổng Dịch vụ công quốc gia', 0, 14),
    ('4.3', 'digitisation', 'Tỷ lệ hồ sơ khai thác, sử dụng lại thông tin, dữ liệu số hóa', 'reused_data', 2, 800, 'not_scored', 'Quyết định 766/QĐ-TTg ngày 23/6/2022; cách tính theo Cổng Dịch vụ công quốc gia', 1, 15),
    ('4.4', 'digitisation', 'Tỷ lệ hồ sơ thủ tục hành chính được số hóa có kết nối, chia sẻ dữ liệu phục vụ tái sử dụng', 'shared_data', 4, 1000, 'not_scored', 'Quyết định 766/QĐ-TTg ngày 23/6/2022; cách tính theo Cổng Dịch vụ công quốc gia', 0, 16),
    ('4.5a', 'digitisation', 'Tỷ lệ thủ tục hành chính triển khai kết nối, chia sẻ dữ liệu dân cư phục vụ giải quyết thủ tục hành chính', 'population_procedures', 2, 1000, 'not_scored', 'Quyết định 766/QĐ-TTg ngày 23/6/2022; cách tính theo Cổng Dịch vụ công quốc gia', 1, 17),
    ('4.5b', 'digitisation', 'Tỷ lệ hồ sơ thủ tục hành chính sử dụng thông tin, dữ liệu từ Cơ sở dữ liệu quốc gia về dân cư', 'population_dossiers', 2, 1000, 'not_scored', 'Quyết định 766/QĐ-TTg ngày 23/6/2022; cách tính theo Cổng Dịch vụ công quốc gia', 1, 18),
    ('5.2', 'satisfaction', 'Tiến độ xử lý phản ánh, kiến nghị', 'feedback_on_time', 6, 1000, 'full', 'Quyết định 766/QĐ-TTg ngày 23/6/2022; cách tính theo Cổng Dịch vụ công quốc gia', 0, 19),
    ('5.3', 'satisfaction', 'Tỷ lệ hài lòng trong xử lý phản ánh, kiến nghị', 'feedback_satisfied', 6, 1000, 'full', 'Quyết định 766/QĐ-TTg ngày 23/6/2022; cách tính theo Cổng Dịch vụ công quốc gia', 0, 20),
    ('5.4', 'satisfaction', 'Tỷ lệ hài lòng trong tiếp nhận, giải quyết thủ tục hành chính', 'dossier_satisfaction', 6, 900, 'zero', 'Quyết định 766/QĐ-TTg ngày 23/6/2022; cách tính theo Cổng Dịch vụ công quốc gia', 1, 21);
