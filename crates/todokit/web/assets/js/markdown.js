// A small, safe Markdown renderer for assistant output. It builds DOM nodes
// directly, so text can never become markup; links are kept only for
// http(s) and mailto. Supported: paragraphs, line breaks, headings, bullet and
// numbered lists (nested by indentation), block quotes, fenced and inline code,
// **bold**, *italic* / _italic_ (underscores inside words stay literal),
// ~~strike~~, [links](url) and bare URLs.
// Unfinished syntax (mid-stream) renders as plain text until it closes.

import { h, isSafeUrl } from "./dom.js";

export function renderMarkdown(source) {
  const fragment = document.createDocumentFragment();
  const lines = String(source ?? "").replace(/\r\n?/g, "\n").split("\n");
  renderBlocks(lines, fragment);
  return fragment;
}

const FENCE = /^\s*(```|~~~)\s*([\w+-]*)\s*$/;
const HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
const LIST_ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
const QUOTE = /^\s*>\s?(.*)$/;
const RULE = /^\s*([-*_])(\s*\1){2,}\s*$/;

function renderBlocks(lines, parent) {
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      i++;
      continue;
    }
    const fence = line.match(FENCE);
    if (fence) {
      const body = [];
      i++;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) body.push(lines[i++]);
      i++; // closing fence (or end of text while streaming)
      parent.append(h("pre", {}, h("code", {}, body.join("\n"))));
      continue;
    }
    const heading = line.match(HEADING);
    if (heading) {
      const level = Math.min(heading[1].length + 2, 6); // keep assistant headings below the page's
      parent.append(h(`h${level}`, {}, inline(heading[2])));
      i++;
      continue;
    }
    if (RULE.test(line)) {
      parent.append(h("hr"));
      i++;
      continue;
    }
    if (QUOTE.test(line)) {
      const body = [];
      while (i < lines.length && QUOTE.test(lines[i])) body.push(lines[i++].match(QUOTE)[1]);
      const quote = h("blockquote");
      renderBlocks(body, quote);
      parent.append(quote);
      continue;
    }
    if (LIST_ITEM.test(line)) {
      i = renderList(lines, i, parent);
      continue;
    }
    const paragraph = [];
    while (
      i < lines.length &&
      lines[i].trim() &&
      !FENCE.test(lines[i]) &&
      !HEADING.test(lines[i]) &&
      !QUOTE.test(lines[i]) &&
      !LIST_ITEM.test(lines[i])
    ) {
      paragraph.push(lines[i++].trim());
    }
    const p = h("p");
    paragraph.forEach((text, index) => {
      if (index) p.append(h("br"));
      p.append(inline(text));
    });
    parent.append(p);
  }
}

function renderList(lines, start, parent) {
  const first = lines[start].match(LIST_ITEM);
  const indent = first[1].length;
  const ordered = /\d/.test(first[2]);
  const list = h(ordered ? "ol" : "ul");
  if (ordered) {
    const n = parseInt(first[2], 10);
    if (n !== 1) list.setAttribute("start", String(n));
  }
  let i = start;
  let current = null;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      // A blank line ends the list unless the next line continues it.
      const next = lines[i + 1];
      if (next && LIST_ITEM.test(next) && next.match(LIST_ITEM)[1].length >= indent) {
        i++;
        continue;
      }
      break;
    }
    const item = line.match(LIST_ITEM);
    if (item && item[1].length === indent && /\d/.test(item[2]) === ordered) {
      current = h("li", {}, inline(item[3]));
      list.append(current);
      i++;
    } else if (item && item[1].length > indent && current) {
      i = renderList(lines, i, current);
    } else if (!item && /^\s+/.test(line) && current) {
      current.append(h("br"), inline(line.trim()));
      i++;
    } else {
      break;
    }
  }
  parent.append(list);
  return i;
}

// Emphasis may contain code spans, whose content is literal (as in CommonMark):
// `_set `A_B`._` is one <em> holding <code>A_B</code>. A backtick with no
// partner later on the line is plain text.
const CODE_OR_LONE_TICK = "`[^`]+`|`(?![^`]*`)";
// Underscores only open and close emphasis at word edges, so snake_case and
// file_name_here stay literal, including inside an _emphasised snake_case_.
const WORD = "[\\p{L}\\p{N}]";
const UNDERSCORE_EM = new RegExp(
  `(?<!${WORD}|_)_(?![\\s_])((?:${CODE_OR_LONE_TICK}|[^_\`]|(?<=${WORD})_(?=${WORD}))*?)(?<!\\s)_(?!${WORD}|_)`,
  "u",
);
const STAR_EM = new RegExp(`\\*(?![\\s*])((?:${CODE_OR_LONE_TICK}|[^*\`])*?)(?<![\\s*])\\*`, "u");

// Inline spans: the earliest match wins (the first rule on a tie); text
// between matches is plain text.
const INLINE = [
  { re: /`([^`]+)`/, make: (m) => h("code", {}, m[1]) },
  { re: /\*\*(?=\S)([\s\S]*?\S)\*\*/, make: (m) => h("strong", {}, inline(m[1])) },
  { re: /(?<![\p{L}\p{N}_])__(?=\S)([\s\S]*?\S)__(?![\p{L}\p{N}_])/u, make: (m) => h("strong", {}, inline(m[1])) },
  { re: /~~(?=\S)([\s\S]*?\S)~~/, make: (m) => h("del", {}, inline(m[1])) },
  { re: STAR_EM, make: (m) => h("em", {}, inline(m[1])) },
  { re: UNDERSCORE_EM, make: (m) => h("em", {}, inline(m[1])) },
  { re: /\[([^\]]+)\]\(\s*<?((?:[^()\s<>]|\([^()\s]*\))+)>?(?:\s+"[^"]*")?\s*\)/, make: (m) => link(inline(m[1]), m[1], m[2]) },
  { re: /\bhttps?:\/\/[^\s<>()]+[^\s<>().,;:!?'"]/, make: (m) => link(document.createTextNode(m[0]), m[0], m[0]) },
];

function link(label, text, href) {
  // Only absolute http(s)/mailto targets; anything else (javascript:, data:,
  // relative paths) stays visible as plain text.
  if (!/^(https?:|mailto:)/i.test(href.trim()) || !isSafeUrl(href)) {
    return document.createTextNode(text);
  }
  return h("a", { href: href.trim(), target: "_blank", rel: "noopener noreferrer nofollow" }, label);
}

function inline(text) {
  const fragment = document.createDocumentFragment();
  let rest = text;
  while (rest) {
    let best = null;
    for (const rule of INLINE) {
      const m = rest.match(rule.re);
      if (m && (best === null || m.index < best.m.index)) best = { m, rule };
    }
    if (!best) {
      fragment.append(document.createTextNode(rest));
      break;
    }
    if (best.m.index) fragment.append(document.createTextNode(rest.slice(0, best.m.index)));
    fragment.append(best.rule.make(best.m));
    rest = rest.slice(best.m.index + best.m[0].length);
  }
  return fragment;
}
