/**
 * The inbox page and the sign-in page. The page is one HTML document with the reviewer's items embedded as
 * JSON; its script (allowed by a per-response nonce, nothing loads from elsewhere) renders them with
 * textContent only, filters them, and calls the JSON API (api.ts) for claims and decisions. Usable at a
 * phone's width: below 720 px the list and the open item stack.
 */
import { escapeHtml } from '../../shared/html';

export const INBOX_PAGE_CSP = (nonce: string) =>
	`default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`;

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1f2328;background:#f6f8fa}
header{display:flex;flex-wrap:wrap;gap:8px;align-items:center;justify-content:space-between;padding:10px 14px;background:#fff;border-bottom:1px solid #d0d7de}
header h1{font-size:18px;margin:0}.who{font-size:13px;color:#57606a}
.bar{display:flex;flex-wrap:wrap;gap:6px;padding:8px 14px;background:#fff;border-bottom:1px solid #d0d7de}
select,button,textarea,input{font:inherit}select,input{padding:6px;border:1px solid #d0d7de;border-radius:6px;background:#fff;max-width:100%}
button{padding:7px 12px;border-radius:6px;border:1px solid #d0d7de;background:#f6f8fa;cursor:pointer;min-height:36px}
button.approve{background:#1a7f37;color:#fff;border-color:#1a7f37}button.reject{background:#cf222e;color:#fff;border-color:#cf222e}
button:disabled{opacity:.5;cursor:default}
main{display:grid;grid-template-columns:minmax(280px,420px) 1fr;gap:0;min-height:calc(100vh - 110px)}
#list{list-style:none;margin:0;padding:0;border-right:1px solid #d0d7de;background:#fff;overflow:auto}
#list li{display:flex;gap:8px;padding:10px 12px;border-bottom:1px solid #eaeef2;cursor:pointer;content-visibility:auto;contain-intrinsic-size:auto 64px}
#list li.current{background:#ddf4ff}#list li.more{cursor:default;font-size:13px;color:#57606a}#list li .t{font-weight:600;overflow-wrap:anywhere}
.meta{font-size:12px;color:#57606a;display:flex;flex-wrap:wrap;gap:4px 10px}
.badge{display:inline-block;padding:0 6px;border-radius:10px;background:#eaeef2;font-size:12px}
.due{color:#9a6700}.overdue{color:#cf222e;font-weight:600}
#detail{padding:14px;overflow:auto}#detail h2{font-size:17px;margin:0 0 8px}
.field{margin:8px 0}.field b{display:block;font-size:12px;color:#57606a}.field pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:2px 0;font:inherit}
mark{background:#fff8c5;border-bottom:2px solid #d4a72c}
textarea{width:100%;min-height:70px;padding:6px;border:1px solid #d0d7de;border-radius:6px}
.actions{display:flex;flex-wrap:wrap;gap:8px;margin-top:10px}
#msg{padding:8px 14px;font-size:14px}#msg:empty{display:none}#msg.err{color:#cf222e}#msg.ok{color:#1a7f37}
.empty{padding:20px;color:#57606a}.keys{font-size:12px;color:#57606a;margin-top:14px}
@media (max-width:720px){main{grid-template-columns:1fr}#list{border-right:0;max-height:45vh}}
form.signin{max-width:340px;margin:12vh auto;background:#fff;padding:20px;border:1px solid #d0d7de;border-radius:8px}
form.signin label{display:block;margin:10px 0 4px}form.signin input{width:100%}form.signin button{margin-top:14px;width:100%}
`;

/** The client: renders with textContent only; every change goes through the JSON API. */
const SCRIPT = `
(function(){
'use strict';
var data=JSON.parse(document.getElementById('data').textContent);
var items=data.items, me=data.reviewer, current=0, selected={}, names={};
var $=function(id){return document.getElementById(id)};
function el(tag,cls,text){var e=document.createElement(tag);if(cls)e.className=cls;if(text!==undefined&&text!==null)e.textContent=String(text);return e}
function v(it){return it.view||{}}
function title(it){var w=v(it);return w.title||(w.shown&&w.shown[0]&&w.shown[0].text)||('Item '+(it.itemIndex+1))}
function ago(iso){var m=Math.round((Date.now()-Date.parse(iso))/60000);return m<60?m+' min':m<2880?Math.round(m/60)+' h':Math.round(m/1440)+' d'}
function dueText(it){if(!it.dueAt)return null;var ms=Date.parse(it.dueAt)-Date.now();var m=Math.round(Math.abs(ms)/60000);var s=m<60?m+' min':Math.round(m/60)+' h';return ms<0?['overdue','overdue '+s]:['due','due in '+s]}
function answerText(a){return typeof a==='string'?a:JSON.stringify(a===undefined?null:a,null,2)}
function fill(sel,values,label){var keep=sel.value;sel.textContent='';sel.appendChild(el('option','',label)).value='';
  if(keep&&!values.some(function(x){return x[0]===keep})){var named=names[sel.id+'|'+keep];values=values.concat([[keep,named||keep]])}
  values.forEach(function(x){var o=el('option','',x[1]);o.value=x[0];names[sel.id+'|'+x[0]]=x[1];sel.appendChild(o)});sel.value=keep}
function filters(){
  var wf={},lb={};items.forEach(function(it){wf[it.workflowId]=it.workflowName||it.workflowId;if(it.label)lb[it.label]=1});
  fill($('f-workflow'),Object.keys(wf).map(function(k){return[k,wf[k]]}),'All workflows');
  fill($('f-label'),Object.keys(lb).sort().map(function(k){return[k,k]}),'All labels / actions');
}
function visible(){
  var w=$('f-workflow').value,l=$('f-label').value,a=$('f-assignee').value,d=$('f-due').value,now=Date.now();
  return items.filter(function(it){
    if(w&&it.workflowId!==w)return false;if(l&&it.label!==l)return false;
    if(a==='me'&&it.claimedBy!==me)return false;if(a==='free'&&it.claimedBy)return false;
    if(d==='overdue'&&!(it.dueAt&&Date.parse(it.dueAt)<=now))return false;
    if(d==='soon'&&!(it.dueAt&&Date.parse(it.dueAt)<=now+3600000))return false;
    return true});
}
function marked(text,evidence){
  var frag=document.createDocumentFragment(),rest=String(text),quotes=(evidence||[]).filter(function(q){return q&&q.length>2});
  while(rest){var best=-1,q=null;quotes.forEach(function(x){var i=rest.indexOf(x);if(i>=0&&(best<0||i<best)){best=i;q=x}});
    if(best<0){frag.appendChild(document.createTextNode(rest));break}
    frag.appendChild(document.createTextNode(rest.slice(0,best)));frag.appendChild(el('mark','',q));rest=rest.slice(best+q.length)}
  return frag;
}
/* 2,000 rows must show within a second: the list shows the first rows in due order (STEP at a time) with a
   count of all; more are added as the reviewer scrolls to the end, presses j past the last one, or asks for all.
   The filters and the count always work on every waiting item. Rows are built into one
   fragment (seven elements a row); the list has one click listener; rows off screen are skipped by layout (content-visibility);
   moving the current row changes two classes, it never rebuilds the list. */
var vis=[],rows=[];
function row(it,i){
  var li=el('li',i===current?'current':'');li.dataset.id=it.id;li.dataset.i=i;
  var cb=el('input');cb.type='checkbox';cb.checked=!!selected[it.id];cb.setAttribute('aria-label','Select');li.appendChild(cb);
  var body=el('div');body.appendChild(el('div','t',title(it)));
  var meta=el('div','meta');meta.appendChild(el('span','badge',it.label||'—'));
  var c=v(it).confidence,parts=[];if(typeof c==='number')parts.push(Math.round(c*100)+'%');
  parts.push(it.workflowName,'waiting '+ago(it.createdAt));meta.appendChild(document.createTextNode(' '+parts.join(' · ')+' '));
  var d=dueText(it);if(d)meta.appendChild(el('span',d[0],d[1]));
  var extra=[];if(it.claimedBy)extra.push('claimed by '+it.claimedBy);if(it.approvalsRequired===2)extra.push('four eyes');
  if(extra.length)meta.appendChild(el('span','badge',extra.join(' · ')));
  body.appendChild(meta);li.appendChild(body);return li;
}
var STEP=100,more=null,seen=window.IntersectionObserver?new IntersectionObserver(function(es){es.forEach(function(e){if(e.isIntersecting&&e.target===more)grow(rows.length+STEP)})}):null;
function grow(to){
  to=Math.min(vis.length,to);if(to<=rows.length&&more)return;
  var frag=document.createDocumentFragment();for(var i=rows.length;i<to;i++)rows.push(frag.appendChild(row(vis[i],i)));
  if(more){if(seen)seen.unobserve(more);more.remove();more=null}
  if(rows.length<vis.length){
    more=el('li','more','Showing '+rows.length+' of '+vis.length+' (by due time); more as you scroll.');frag.appendChild(more);
  }
  var all=$('all');all.hidden=rows.length>=vis.length;all.textContent='Show all '+vis.length;
  $('list').appendChild(frag);if(more&&seen)seen.observe(more);
}
function renderList(){
  var list=$('list');vis=visible();list.textContent='';rows=[];if(more&&seen)seen.unobserve(more);more=null;
  $('count').textContent=vis.length+' waiting';
  if(current>=vis.length)current=Math.max(0,vis.length-1);
  if(!vis.length){list.appendChild(el('li','empty','Nothing waiting here.'))}
  grow(Math.max(STEP,current+1));
  renderDetail(vis[current]);bulkState();
}
function go(i){
  if(!vis.length)return;i=Math.max(0,Math.min(vis.length-1,i));if(i>=rows.length)grow(i+STEP);
  if(rows[current])rows[current].classList.remove('current');current=i;rows[i].classList.add('current');
  rows[i].scrollIntoView({block:'nearest'});renderDetail(vis[i]);
}
function toggle(i,on){var it=vis[i];if(!it)return;selected[it.id]=on;rows[i].firstChild.checked=on;bulkState()}
$('all').addEventListener('click',function(){grow(vis.length)});
$('list').addEventListener('click',function(e){
  var li=e.target.closest&&e.target.closest('li[data-i]');if(!li)return;var i=Number(li.dataset.i);
  if(e.target.tagName==='INPUT'){toggle(i,e.target.checked);return}
  go(i);
});
function renderDetail(it){
  var d=$('detail');d.textContent='';if(!it){d.appendChild(el('p','empty','Choose an item.'));return}
  var w=v(it);d.appendChild(el('h2','',title(it)));
  var meta=el('div','meta');[it.workflowName,it.nodeName,'execution '+it.executionId,'item '+(it.itemIndex+1)].forEach(function(x){meta.appendChild(el('span','',x))});d.appendChild(meta);
  (w.shown||[]).forEach(function(f){var div=el('div','field');div.appendChild(el('b','',f.name));var pre=el('pre');pre.appendChild(marked(f.text,w.evidence));div.appendChild(pre);d.appendChild(div)});
  var s=el('div','field');s.appendChild(el('b','','AI suggestion'+(w.step?' ('+w.step+')':'')));s.appendChild(el('pre','',answerText(w.answer)));d.appendChild(s);
  var c=el('div','field');c.appendChild(el('b','','Confidence'));c.appendChild(el('span','',typeof w.confidence==='number'?Math.round(w.confidence*100)+'% ('+(w.confidenceMethod||'method not given')+')':'not measured'));d.appendChild(c);
  if(w.reason){var r=el('div','field');r.appendChild(el('b','','Reason'));r.appendChild(el('pre','',w.reason));d.appendChild(r)}
  if(w.evidence&&w.evidence.length){var e=el('div','field');e.appendChild(el('b','','Evidence'));w.evidence.forEach(function(q){e.appendChild(el('pre','','“'+q+'”'))});d.appendChild(e)}
  if(it.approvalsRequired===2)d.appendChild(el('p','badge','Needs approvals from two different reviewers'));
  var ed=el('div','field');ed.appendChild(el('b','','Answer (edit to correct)'));var ta=el('textarea');ta.id='answer';ta.value=answerText(w.answer);ed.appendChild(ta);d.appendChild(ed);
  var cm=el('div','field');cm.appendChild(el('b','','Comment'));var ct=el('textarea');ct.id='comment';ct.style.minHeight='40px';cm.appendChild(ct);d.appendChild(cm);
  var acts=el('div','actions');
  var claim=el('button','',it.claimedBy===me?'Release':'Claim');claim.id='claim';claim.disabled=!!(it.claimedBy&&it.claimedBy!==me);
  claim.addEventListener('click',function(){post({action:it.claimedBy===me?'release':'claim',id:it.id})});
  var ap=el('button','approve','Approve');ap.id='approve';ap.addEventListener('click',function(){decide(it,'approve')});
  var rj=el('button','reject','Reject');rj.id='reject';rj.addEventListener('click',function(){decide(it,'reject')});
  [claim,ap,rj].forEach(function(b){acts.appendChild(b)});d.appendChild(acts);
  d.appendChild(el('p','keys','Keys: j / k next and previous, a approve, r reject, x select.'));
}
function decide(it,decision){
  var body={action:'decide',id:it.id,decision:decision},text=$('answer').value,shown=answerText(v(it).answer);
  if(decision==='approve'&&text.trim()!==shown.trim()){if(typeof v(it).answer==='string')body.answer=text.trim();else{try{body.answer=JSON.parse(text)}catch(e){say('The answer is not valid JSON: '+e.message,true);return}}}
  var c=$('comment').value.trim();if(c)body.comment=c;post(body);
}
function bulkState(){var n=Object.keys(selected).filter(function(k){return selected[k]}).length;var b=$('bulk');b.textContent='Approve selected ('+n+')';b.disabled=!n}
function say(text,err){var m=$('msg');m.textContent=text;m.className=err?'err':'ok'}
function post(body){
  return fetch(location.pathname,{method:'POST',credentials:'same-origin',headers:{'content-type':'application/json',accept:'application/json'},body:JSON.stringify(body)})
  .then(function(r){return r.json().then(function(j){return{ok:r.ok,j:j}})})
  .then(function(x){say(x.j.message||(x.ok?'Done.':'Refused.'),!x.ok||x.j.status==='partial');return refresh()})
  .catch(function(e){say('Could not reach the inbox: '+e.message,true)});
}
function refresh(){return fetch(location.pathname+'?api=items',{credentials:'same-origin',headers:{accept:'application/json'}}).then(function(r){return r.json()}).then(function(j){if(j.items){items=j.items;var ids={};items.forEach(function(it){ids[it.id]=1});Object.keys(selected).forEach(function(k){if(!ids[k])delete selected[k]});filters();renderList()}})}
$('bulk').addEventListener('click',function(){var ids=Object.keys(selected).filter(function(k){return selected[k]});if(ids.length)post({action:'bulkApprove',ids:ids}).then(function(){selected={};bulkState()})});
['f-workflow','f-label','f-assignee','f-due'].forEach(function(id){$(id).addEventListener('change',function(){current=0;renderList()})});
$('signout').addEventListener('click',function(){post({action:'signOut'}).then(function(){location.reload()})});
document.addEventListener('keydown',function(e){
  var t=e.target&&e.target.tagName;if(t==='TEXTAREA'||(t==='INPUT'&&e.target.type!=='checkbox')||t==='SELECT'||e.ctrlKey||e.metaKey||e.altKey)return;
  var it=vis[current];
  if(e.key==='j'||e.key==='ArrowDown'){go(current+1);e.preventDefault()}
  else if(e.key==='k'||e.key==='ArrowUp'){go(current-1);e.preventDefault()}
  else if(e.key==='a'&&it){decide(it,'approve')}else if(e.key==='r'&&it){decide(it,'reject')}
  else if(e.key==='x'&&it){toggle(current,!selected[it.id])}
});
filters();renderList();
// for the benchmark: when the whole list is in the page (navigation start → here, on the page's clock)
if(performance.mark)performance.mark('inbox-list');
})();
`;

export interface InboxPageOptions {
	reviewer: string;
	via: string;
	items: unknown[];
	path: string;
	nonce: string;
	now: string;
}

const PAGE_FIELDS = ['id', 'workflowId', 'workflowName', 'executionId', 'nodeName', 'itemIndex', 'label', 'approvalsRequired', 'createdAt', 'dueAt', 'claimedBy'];

/**
 * What the page embeds of an item: only what it shows (the list's API answer keeps the whole item). The item's
 * folded other fields are not shown by the inbox, and the title is the first shown field unless it differs.
 */
export function pageItem(item: unknown): Record<string, unknown> {
	const source = item as Record<string, unknown>;
	const out: Record<string, unknown> = {};
	for (const key of PAGE_FIELDS) if (source[key] !== undefined && source[key] !== null) out[key] = source[key];
	const view: Record<string, unknown> = { ...((source.view as Record<string, unknown>) ?? {}) };
	delete view.fields;
	delete view.index;
	const shown = view.shown as Array<{ text?: unknown }> | undefined;
	if (view.title === shown?.[0]?.text) delete view.title;
	out.view = view;
	return out;
}

/** JSON inside a script element: `<` escaped so no text can close the element. */
function scriptJson(value: unknown): string {
	return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function head(title: string, nonce: string): string {
	return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex,nofollow"><title>${escapeHtml(title)}</title><style nonce="${nonce}">${STYLE}</style></head>`;
}

export function renderInboxPage(options: InboxPageOptions): string {
	const n = escapeHtml(options.nonce);
	return `${head('Review Inbox', n)}<body>
<header><h1>Review Inbox <span id="count" class="who"></span></h1><span class="who">Signed in as <b id="me">${escapeHtml(options.reviewer)}</b>${options.via === 'header' ? ' (single sign-on)' : ''} <button id="signout" type="button">Sign out</button></span></header>
<div class="bar"><select id="f-workflow" aria-label="Workflow"></select><select id="f-label" aria-label="Label or action"></select>
<select id="f-assignee" aria-label="Assignee"><option value="">Anyone</option><option value="me">Claimed by me</option><option value="free">Not claimed</option></select>
<select id="f-due" aria-label="Due"><option value="">Any due time</option><option value="overdue">Overdue</option><option value="soon">Due within an hour</option></select>
<button id="bulk" type="button" class="approve" disabled>Approve selected (0)</button><button id="all" type="button" hidden>Show all</button></div>
<div id="msg" role="status"></div>
<main><ul id="list" aria-label="Waiting items"></ul><section id="detail" aria-live="polite"></section></main>
<script type="application/json" id="data">${scriptJson({ reviewer: options.reviewer, items: options.items.map(pageItem), now: options.now })}</script>
<script nonce="${n}">${SCRIPT}</script></body></html>`;
}

export function renderSignInPage(options: { path: string; nonce: string; error?: string; signedOut?: boolean }): string {
	return `${head('Sign in: Review Inbox', escapeHtml(options.nonce))}<body>
<form class="signin" method="post" action="${escapeHtml(options.path)}"><h1>Review Inbox</h1>
${options.error ? `<p id="error" class="err" role="alert">${escapeHtml(options.error)}</p>` : options.signedOut ? '<p>Your session has ended; sign in again.</p>' : ''}
<label for="name">Name</label><input id="name" name="name" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" class="approve">Sign in</button></form></body></html>`;
}
