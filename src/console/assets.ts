/**
 * The console's only stylesheet and script, served by the worker from /console/assets/ so the
 * Content-Security-Policy can say `'self'` and allow nothing inline. Mobile first; light and dark
 * follow the system (prefers-color-scheme).
 */
export const CONSOLE_CSS = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1b1f;--muted:#595966;--line:#d4d4dc;--card:#f5f5f8;--accent:#1f4fd1;--accent-fg:#fff;--danger:#a8231b;--ok:#17703a;--warn:#7a4f00;--focus:#f5a300}
@media (prefers-color-scheme:dark){:root{--bg:#121216;--fg:#ececf1;--muted:#a9a9b5;--line:#3a3a44;--card:#1d1d24;--accent:#9db9ff;--accent-fg:#0b0b10;--danger:#ff9b92;--ok:#84e09a;--warn:#ffd27a;--focus:#ffd27a}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;overflow-wrap:anywhere}
a{color:var(--accent)}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:var(--bg);padding:.5rem;z-index:2}
header.top{border-bottom:1px solid var(--line);padding:.6rem 1rem}
header.top .bar{display:flex;flex-wrap:wrap;align-items:center;gap:.4rem 1rem;max-width:64rem;margin:0 auto}
.brand{font-weight:700;color:var(--fg);text-decoration:none;margin-right:auto}
nav ul{display:flex;flex-wrap:wrap;gap:.2rem .9rem;list-style:none;margin:0;padding:0}
nav a{text-decoration:none;padding:.2rem 0;display:inline-block}
nav a[aria-current=page]{font-weight:700;text-decoration:underline;text-underline-offset:.3em}
main{max-width:64rem;margin:0 auto;padding:1rem 1rem 3rem}
footer{max-width:64rem;margin:0 auto;padding:1rem;color:var(--muted);font-size:.9rem;border-top:1px solid var(--line)}
h1{font-size:1.55rem;line-height:1.25;margin:.6rem 0 1rem}h2{font-size:1.2rem;margin:1.8rem 0 .6rem}h3{font-size:1.05rem;margin:1.2rem 0 .4rem}
p{margin:.5rem 0}
.muted{color:var(--muted)}.small{font-size:.9rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:1rem;margin:1rem 0}
.card>h2:first-child,.secret>h2:first-child,.alert>h2:first-child{margin-top:0}
.grid{display:grid;gap:1rem;grid-template-columns:1fr}
@media (min-width:48rem){.grid.two{grid-template-columns:1fr 1fr}.grid.three{grid-template-columns:1fr 1fr 1fr}}
label{display:block;font-weight:600;margin:.9rem 0 .25rem}
.hint{display:block;color:var(--muted);font-size:.88rem;font-weight:400;margin:.1rem 0 .3rem}
input,select,textarea{width:100%;max-width:100%;font:inherit;color:var(--fg);background:var(--bg);border:1px solid var(--muted);border-radius:8px;padding:.55rem .65rem}
textarea{min-height:6rem}
input[type=checkbox],input[type=radio]{width:auto;margin-right:.45rem}
fieldset{border:1px solid var(--line);border-radius:8px;margin:1rem 0;padding:.4rem .9rem .8rem}legend{font-weight:600;padding:0 .3rem}
.check{display:flex;align-items:center;font-weight:400;margin:.35rem 0}
.field-error{color:var(--danger);font-weight:600;font-size:.92rem;margin:.25rem 0 0}
[aria-invalid=true]{border-color:var(--danger);border-width:2px}
button,.button{display:inline-block;font:inherit;font-weight:600;border:1px solid var(--accent);background:var(--accent);color:var(--accent-fg);border-radius:8px;padding:.55rem 1rem;cursor:pointer;text-decoration:none;margin:.3rem .3rem .3rem 0;min-height:44px}
/* A form's submit button after its last field: room between the two. */
form>div+button[type=submit]{margin-top:1rem}
button.secondary,.button.secondary{background:transparent;color:var(--accent)}
button.danger,.button.danger{background:var(--danger);border-color:var(--danger);color:var(--bg)}
button.link{background:none;border:0;color:var(--accent);padding:0;min-height:0;text-decoration:underline;font-weight:400}
form.inline{display:inline}
.actions{display:flex;flex-wrap:wrap;align-items:center;gap:.2rem .4rem;margin-top:.6rem}
code,pre,kbd{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
code{background:var(--card);border:1px solid var(--line);border-radius:4px;padding:.05rem .3rem;word-break:normal;overflow-wrap:anywhere}
pre{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.75rem;white-space:pre-wrap;word-break:normal;overflow-wrap:anywhere;margin:.5rem 0}
pre code{border:0;padding:0;background:none}
.secret{border:2px solid var(--accent);border-radius:10px;padding:1rem;margin:1rem 0;background:var(--card)}
.secret pre{font-size:1rem}
.notice{border-left:4px solid var(--ok);background:var(--card);padding:.6rem .9rem;margin:1rem 0;border-radius:4px}
.alert{border-left:4px solid var(--danger);background:var(--card);padding:.6rem .9rem;margin:1rem 0;border-radius:4px}
.badge{display:inline-block;border:1px solid currentColor;border-radius:999px;padding:0 .55rem;font-size:.82rem;font-weight:600;white-space:nowrap}
.badge.ok{color:var(--ok)}.badge.bad{color:var(--danger)}.badge.wait{color:var(--warn)}.badge.plain{color:var(--muted)}
ul.rows{list-style:none;margin:0;padding:0;border-top:1px solid var(--line)}
ul.rows>li{border-bottom:1px solid var(--line);padding:.8rem 0}
.row-head{display:flex;flex-wrap:wrap;gap:.3rem .8rem;align-items:baseline}
.row-head .title{font-weight:600}
dl.facts{display:grid;grid-template-columns:minmax(7rem,max-content) 1fr;gap:.25rem 1rem;margin:.5rem 0}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
progress{width:100%;height:.9rem;accent-color:var(--accent);margin:.1rem 0 .6rem}
.empty{border:1px dashed var(--muted);border-radius:10px;padding:1rem;margin:1rem 0}
ol.transcript{list-style:none;padding:0;margin:0}
ol.transcript li{margin:.5rem 0;padding:.5rem .7rem;border-radius:8px;background:var(--card);border:1px solid var(--line)}
.speaker{font-weight:700;margin-right:.4rem}
.steps li{margin:.5rem 0}
.pager{display:flex;gap:1rem;margin:1rem 0}
.hero{padding:1rem 0}
.hero p{font-size:1.08rem;max-width:40rem}
`;

/**
 * Progressive enhancement only; every page works without it. Copy buttons, times in the
 * person's own timezone, the browser's timezone as the call form's default, and a running
 * call's status kept live.
 */
export const CONSOLE_JS = `
(function(){
  "use strict";
  var fmt = new Intl.DateTimeFormat(undefined, {dateStyle: "medium", timeStyle: "short"});
  function localTimes(root){
    var list = root.querySelectorAll("time[data-local]");
    for (var i = 0; i < list.length; i++) {
      var el = list[i], d = new Date(el.getAttribute("datetime"));
      if (!isNaN(d)) { el.title = el.textContent; el.textContent = fmt.format(d); }
    }
  }
  localTimes(document);
  document.addEventListener("click", function(ev){
    var btn = ev.target.closest && ev.target.closest("button[data-copy]");
    if (!btn) return;
    var source = document.getElementById(btn.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent.trim()).then(function(){
      var label = btn.textContent; btn.textContent = "Copied";
      var status = document.getElementById(btn.getAttribute("data-copy") + "-status");
      if (status) status.textContent = "Copied to the clipboard.";
      setTimeout(function(){ btn.textContent = label; }, 2000);
    });
  });
  var tz = document.querySelector("input[data-default-timezone]");
  if (tz && !tz.value) { try { tz.value = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) {} }
  var live = document.querySelector("[data-live]");
  if (live) {
    var url = live.getAttribute("data-live"), wait = 2000, shown = live.getAttribute("data-status");
    var tick = function(){
      fetch(url, {headers: {accept: "application/json"}, credentials: "same-origin"}).then(function(r){ return r.ok ? r.json() : null; }).then(function(s){
        if (!s) { wait = Math.min(wait * 2, 30000); return; }
        if (s.status !== shown) {
          if (s.finished) { location.reload(); return; }
          shown = s.status; live.textContent = s.status_text;
        }
      }).catch(function(){ wait = Math.min(wait * 2, 30000); }).then(function(){ setTimeout(tick, wait); });
    };
    setTimeout(tick, wait);
  }
})();
`;
