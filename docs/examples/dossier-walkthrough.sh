#!/usr/bin/env bash
# One dossier from the counter to the citizen, with curl and jq, against a running
# `motcua serve` with the demo province (demo password motcua-demo-2019).
#   docs/examples/dossier-walkthrough.sh [BASE_URL]     (default http://127.0.0.1:8080)
set -euo pipefail
BASE="${1:-http://127.0.0.1:8080}"
PASSWORD="motcua-demo-2019"
jar="$(mktemp -d)"
trap 'rm -rf "$jar"' EXIT

# login USER: keeps the cookie in $jar/USER and prints the CSRF token.
login() {
  curl -sf -c "$jar/$1" -H 'content-type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"$PASSWORD\"}" "$BASE/api/v1/auth/login" | jq -r .csrf_token
}
# call USER CSRF METHOD PATH [JSON]
call() {
  local args=(-s -b "$jar/$1" -H "x-csrf-token: $2" -X "$3" "$BASE$4")
  [ $# -ge 5 ] && args+=(-H 'content-type: application/json' -d "$5")
  curl "${args[@]}"
}
# act USER CSRF CODE ACTION JSON: prints the new status.
act() {
  call "$1" "$2" POST "/api/v1/dossiers/$3/actions/$4" "$5" |
    jq -c "{action: \"$4\", status_code, status_label, current_agency, due_at, message}"
}

counter=$(login tiepnhan)
leader=$(login ld.xaydung)
officer=$(login cv.xaydung)
justice=$(login cv.tuphap)

echo "== a building-permit procedure of Sở Xây dựng, received at the centre"
procedure=$(curl -sf "$BASE/api/v1/procedures?agency=000.00.03.H43&at_centre=true&limit=1" | jq -r '.items[0].code')
curl -sf "$BASE/api/v1/procedures/$procedure" | jq -c '{code, name: .content.name, days: .content.processing_time}'
documents=$(curl -sf "$BASE/api/v1/procedures/$procedure" |
  jq -c '[.content.documents | to_entries[] | select(.value.required) | {index: .key, originals: .value.originals, copies: .value.copies}]')

echo "== 1. the counter receives it (receipt and appointment at once)"
filed=$(call tiepnhan "$counter" POST /api/v1/dossiers "{\"procedure\":\"$procedure\",
  \"applicant\":{\"kind\":\"organisation\",\"name\":\"Công ty TNHH Nắng Gió\",\"id_number\":\"4500123456\",\"phone\":\"0912345678\"},
  \"documents\":$documents}")
echo "$filed" | jq -c '{code, status_code, status_label, received_at, due_at, tracking_secret, message}'
[ "$(echo "$filed" | jq -r .status_code)" = 2 ] || { echo "intake failed" >&2; exit 1; }
code=$(echo "$filed" | jq -r .code)
secret=$(echo "$filed" | jq -r .tracking_secret)

echo "== 2. handled: transfer, assign, supplement, inter-agency, finish, return"
act tiepnhan "$counter" "$code" transfer '{}'
act ld.xaydung "$leader" "$code" assign '{"user":"cv.xaydung"}'
act cv.xaydung "$officer" "$code" request-supplement '{"missing":["Bản vẽ mặt bằng có chữ ký của chủ đầu tư"]}'
act tiepnhan "$counter" "$code" receive-supplement '{"note":"Đã nhận bản vẽ"}'
act cv.xaydung "$officer" "$code" forward '{"agency":"000.00.02.H43","note":"Xin ý kiến"}'
act cv.tuphap "$justice" "$code" forward-back '{"note":"Thống nhất"}'
echo "   (a forbidden action is refused with 409 and the reason:)"
act tiepnhan "$counter" "$code" return '{"method":"counter"}'
result=$(printf '%%PDF-1.4\n%%%%EOF\n' | curl -s -b "$jar/ld.xaydung" -H "x-csrf-token: $leader" \
  --data-binary @- "$BASE/api/v1/uploads?name=giay-phep.pdf" | jq -r .id)
act ld.xaydung "$leader" "$code" finish "{\"result_files\":[\"$result\"],\"note\":\"Đã ký\"}"
act tiepnhan "$counter" "$code" return '{"method":"post","tracking_number":"EB123456789VN"}'

echo "== 3. the processing control sheet"
call tiepnhan "$counter" GET "/api/v1/dossiers/$code/history" |
  jq -r '.control_sheet[] | "\(.handed_at)  \(.from_agency) -> \(.to_agency_name) \(.receiver // "")  due \(.due_at)  \(.result_label // "…")"'

echo "== 4. public tracking: with the receipt's secret, and without"
curl -s "$BASE/api/v1/track/$code?secret=$secret" | jq -c '{code, status_code, status_label, steps: (.steps | length)}'
curl -s "$BASE/api/v1/track/$code?secret=WRONG123" | jq -c .
