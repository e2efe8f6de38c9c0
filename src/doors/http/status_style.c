/*
 * status_style.c -- (doors) the status page's stylesheet, inline in the
 * page's <style> (its Content-Security-Policy allows nothing else): the
 * banner's colours by verdict, the tables, and the plots' series, threshold
 * lines and legend (the class names status_page.c and status_plots.c write).
 */
#include "doors/http/status_style.h"

const char	ph_status_page_style[] =
"body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1f2328;background:#f6f8fa}"
"main{padding:0 16px 24px;max-width:1400px}"
"header{padding:12px 16px;color:#fff}header h1{margin:0;font-size:28px;text-transform:uppercase}"
"header .meta{margin:2px 0 6px;opacity:.9}header ul{margin:0;padding-left:18px}"
"header.st-ok{background:#1a7f37}header.st-warning{background:#9a6700}"
"header.st-critical{background:#cf222e}header.st-unknown{background:#57606a}"
"h2{font-size:17px;margin:20px 0 6px}"
"table{border-collapse:collapse;background:#fff;font-size:13px}"
"th,td{border:1px solid #d0d7de;padding:3px 6px;text-align:left;vertical-align:top;unicode-bidi:isolate}"
"#reasons li{unicode-bidi:isolate}"
"td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}td.t{white-space:nowrap}"
"tr.st-warning td.status{background:#fff8c5}tr.st-critical td.status{background:#ffebe9}"
"tr.st-ok td.status{color:#1a7f37}.none{color:#57606a;font-style:italic}.note{color:#57606a;margin:4px 0}"
"#history{display:flex;flex-wrap:wrap;gap:8px 24px}#history h2,#history p.note{flex-basis:100%}"
"figure{margin:0}figcaption{font-weight:600}"
"svg{background:#fff;border:1px solid #d0d7de;max-width:100%;height:auto}"
".chart text{font-size:11px;fill:#57606a}.ylabel{text-anchor:end}.xlabel{text-anchor:middle}"
".xlabel.first{text-anchor:start}.xlabel.last{text-anchor:end}.thlabel{text-anchor:end}"
".grid{stroke:#eaeef2}.tick{stroke:#8c959f}.frame{fill:none;stroke:#8c959f}"
"polyline{fill:none;stroke-width:1.5}.s1{stroke:#0969da;background:#0969da}"
".s2{stroke:#1a7f37;background:#1a7f37}.s3{stroke:#bf8700;background:#bf8700}"
".s4{stroke:#cf222e;background:#cf222e}"
".th{stroke-dasharray:6 4;stroke-width:1}.th-usable{stroke:#57606a;background:#57606a}"
".th-interval{stroke:#57606a;background:#57606a}"
".th-warning{stroke:#bf8700;background:#bf8700}.th-critical{stroke:#cf222e;background:#cf222e}"
"text.th-usable,text.th-interval,text.th-warning,text.th-critical{stroke:none}"
"text.th-warning{fill:#9a6700}text.th-critical{fill:#cf222e}"
".legend{list-style:none;padding:0;margin:2px 0;display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px}"
".sw{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}"
".bar .used,.sw.used{fill:#0969da;background:#0969da}.bar .free,.sw.free{fill:#8dd7a0;background:#8dd7a0}"
".bar .reserved,.sw.reserved{fill:#d0d7de;background:#d0d7de}"
"footer{padding:8px 16px;color:#57606a}";
