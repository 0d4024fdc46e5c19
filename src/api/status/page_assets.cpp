#include "api/status/page_assets.h"

namespace api::status {

const std::string_view kPageStyle = R"CSS(
:root{--bg:#0f1419;--panel:#182029;--line:#263140;--text:#e6edf3;--muted:#8b98a5;--accent:#4aa3ff;
--ok:#3fb950;--warn:#d29922;--bad:#f85149;--poc:#bc8cff}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header{padding:18px 28px;border-bottom:1px solid var(--line);display:flex;flex-wrap:wrap;align-items:baseline;gap:8px 20px}
h1{font-size:20px;margin:0}
h2{font-size:15px;margin:0 0 10px;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.04em}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px;word-break:break-all}
main{padding:20px 28px;display:grid;gap:22px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:14px}
.card{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:12px 16px}
.card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:26px;font-weight:600;margin-top:2px}
.card .hint{color:var(--muted);font-size:12px;min-height:1.2em}
section.panel{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:14px 16px;overflow-x:auto}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600;font-size:12px}
tr:last-child td{border-bottom:none}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.cost{white-space:nowrap}
td.empty{color:var(--muted);font-style:italic}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;background:var(--line);margin-right:4px}
.st-INFERENCE,.ph-inference{background:rgba(63,185,80,.18);color:var(--ok)}
.st-POC,.ph-poc_generate,.ph-poc_generate_wind_down,.ph-poc_validate,.ph-poc_validate_wind_down{background:rgba(188,140,255,.18);color:var(--poc)}
.st-FAILED{background:rgba(248,81,73,.18);color:var(--bad)}
.st-STOPPED,.st-UNKNOWN,.ph-model_loading{background:rgba(210,153,34,.18);color:var(--warn)}
.slot-on{background:rgba(74,163,255,.2);color:var(--accent)}
.slot-off{color:var(--muted)}
.you{background:rgba(74,163,255,.2);color:var(--accent)}
tr.stage-done td{color:var(--muted)}
tr.stage-next td{font-weight:600}
#live{font-size:12px;color:var(--muted)}
#live.ok{color:var(--ok)}
#live.stale{color:var(--bad)}
.error{color:var(--bad)}
footer{padding:0 28px 24px;color:var(--muted);font-size:12px}
a{color:var(--accent)}
.error:empty{display:none}
)CSS";

const std::string_view kPageScript = R"JS(
(function () {
  'use strict';
  var body = document.body;
  var period = Number(body.getAttribute('data-refresh-ms')) || 3000;
  var refreshes = 0;
  function $(id) { return document.getElementById(id); }
  function show(v) { return v === null || v === undefined || v === '' ? '\u2013' : String(v); }
  function setText(id, v) { var e = $(id); if (e) e.textContent = show(v); }
  function setNote(id, v) { var e = $(id); if (e) e.textContent = v || ''; }  // empty stays empty
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = show(text);
    return e;
  }
  function cell(cls, content) {
    var c = el('td', cls);
    if (content instanceof Node) c.appendChild(content); else c.textContent = show(content);
    return c;
  }
  function note(cls, text) { var c = el('td', cls); c.textContent = text || ''; return c; }
  function badge(cls, text) { return el('span', 'badge ' + cls, text); }
  function group(nodes) { var f = document.createDocumentFragment(); nodes.forEach(function (n) { f.appendChild(n); }); return f; }
  function row(attrs, cells) {
    var tr = document.createElement('tr');
    Object.keys(attrs).forEach(function (k) { tr.setAttribute(k, String(attrs[k])); });
    cells.forEach(function (c) { tr.appendChild(c); });
    return tr;
  }
  function fill(id, rows, empty, cols) {
    var tb = $(id);
    if (!rows.length) { var c = cell('empty', empty); c.colSpan = cols; rows = [row({}, [c])]; }
    tb.replaceChildren(group(rows));
  }
  function utc(ms) { return ms ? new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : ''; }
  function share(w, total) { return total > 0 ? (Math.floor(w * 1000 / total) / 10).toFixed(1) + ' %' : ''; }

  var STAGES = ['pre_poc_selection', 'poc_start', 'poc_wind_down', 'poc_end', 'poc_exchange_end', 'validation_start',
    'validation_wind_down', 'validation_end', 'model_loading_start', 'set_new_validators', 'settlement', 'next_poc_start'];

  function render(s) {
    var height = s.block ? s.block.height : null;
    setText('participant', s.participant);
    setText('height', height);
    setText('block-time', s.block ? utc(s.block.time_unix_ms) : 'no block followed yet');
    setText('mlnode-version', s.mlnode_version);
    var e = s.epoch;
    setText('epoch-index', e ? e.epoch_index : null);
    setNote('upcoming', e && e.upcoming_epoch_index !== null ? 'epoch ' + e.upcoming_epoch_index + ' forming' : '');
    var ph = $('phase');
    ph.textContent = e ? e.phase : '\u2013';
    ph.className = 'badge ' + (e ? 'ph-' + e.phase : '');
    var next = null;
    var stageRows = !e ? [] : STAGES.map(function (name) {
      var h = e.stages[name];
      var cls = height !== null && h <= height ? 'stage-done' : (next === null ? (next = name, 'stage-next') : '');
      var left = height !== null && h > height ? 'in ' + (h - height) + ' blocks' : '';
      return row({ 'data-stage': name, 'class': cls }, [cell('', name), cell('num height', h), note('', left)]);
    });
    fill('stages-body', stageRows, 'no epoch read yet', 3);

    fill('nodes-body', s.nodes.map(function (n) {
      var slots = group([badge(n.epoch_ml_nodes.some(function (m) { return m.pre_poc_slot; }) ? 'slot-on' : 'slot-off', 'PRE_POC'),
        badge(n.epoch_ml_nodes.some(function (m) { return m.poc_slot; }) ? 'slot-on' : 'slot-off', 'POC')]);
      return row({ 'data-node-id': n.id }, [
        cell('mono', n.id),
        cell('status', badge('st-' + n.status, n.status + (n.enabled ? '' : ' (disabled)'))),
        cell('intent', n.intent),
        cell('model mono', n.model),
        cell('models mono', n.models.join(', ')),
        cell('version', n.mlnode_version),
        cell('timeslots', slots),
        cell('num weight', n.weight),
        cell('healthy', n.healthy ? 'yes' : 'no')]);
    }), 'no nodes configured', 9);

    var p = s.participants;
    setText('participants-epoch', p.epoch_index);
    setText('participants-total', p.total_weight);
    setNote('participants-error', p.error ? 'chain not readable: ' + p.error : '');
    fill('participants-body', p.members.map(function (m) {
      var who = group([el('code', '', m.address)].concat(m.is_self ? [document.createTextNode(' '), badge('you', 'this participant')] : []));
      return row({ 'data-address': m.address }, [cell('address', who), cell('num weight', m.weight),
        cell('num share', share(m.weight, p.total_weight)), cell('url mono', m.url)]);
    }), 'no epoch group read yet', 4);

    fill('inferences-body', s.inferences.map(function (i) {
      return row({ 'data-inference-id': i.id }, [cell('num height', i.height), cell('id mono', i.id), cell('model mono', i.model),
        cell('executor mono', i.executor ? i.executor + (i.executor_node ? ' / ' + i.executor_node : '') : ''),
        cell('num tokens', i.tokens), cell('num cost', i.cost + ' ' + s.denom), cell('validation', i.validation)]);
    }), 'no inference finished since this dapi started following the chain', 7);
  }

  function tick() {
    var ctl = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = ctl ? setTimeout(function () { ctl.abort(); }, period * 2) : null;
    fetch('v1/status', { cache: 'no-store', signal: ctl ? ctl.signal : undefined })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
      .then(function (s) {
        render(s);
        refreshes += 1;
        body.setAttribute('data-refreshes', String(refreshes));
        var live = $('live');
        live.className = 'ok';
        live.textContent = 'live \u00b7 updated ' + new Date().toLocaleTimeString();
      })
      .catch(function (err) {
        var live = $('live');
        live.className = 'stale';
        live.textContent = 'stale \u00b7 ' + (err && err.message ? err.message : 'no answer');
      })
      .then(function () { if (timer) clearTimeout(timer); setTimeout(tick, period); });
  }
  tick();
})();
)JS";

}  // namespace api::status
