// The SPL editor of the search page: CodeMirror 6 (bundled into app.js by esbuild, see
// docs/ui.md), with SPL highlighting and completion of commands, functions and field names. The
// names of commands and functions are the query layer's own (GET /api/vocabulary), so the editor
// knows exactly what the engine accepts; field names are CloudTrail's (the same endpoint) and those
// of the fields the last search's sidebar showed.
//
// It feels like a one-line box: Enter runs the search (Shift+Enter adds a line), long searches
// wrap. Text goes into the document as text only.

import { Compartment, EditorState, Prec } from '@codemirror/state';
import { EditorView, keymap, placeholder as placeholderText } from '@codemirror/view';
import { StreamLanguage, syntaxHighlighting } from '@codemirror/language';
import { autocompletion } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap, insertNewline } from '@codemirror/commands';
import { Tag, tags, tagHighlighter } from '@lezer/highlight';

// Commands whose arguments are eval expressions, and those whose arguments are aggregations: the
// contexts in which functions are highlighted and offered. (The names of the functions themselves
// come from the server.)
const EVAL_COMMANDS = new Set(['eval', 'where', 'fieldformat']);
const STATS_COMMANDS = new Set(['stats', 'chart', 'timechart', 'eventstats', 'streamstats']);
const PERCENTILE = /^(?:exactperc|upperperc|perc|p)_?\d+(?:\.\d+)?$/i;
const BOOLEAN_OPS = new Set(['AND', 'OR', 'NOT', 'XOR', 'IN']);
const ARG_KEYWORDS = new Set(['by', 'as', 'over', 'output', 'outputnew', 'sortby']);
const FIELDS_KEY = 'cairn.fields';

// ---- the vocabulary ----------------------------------------------------------------------------
const vocabulary = {
  loaded: false,
  commands: new Set(),
  evalFunctions: new Set(),
  statsFunctions: new Set(),
  fields: new Set(),  // CloudTrail's, from the server
  searchFields: new Set(loadSearchFields()),  // the last search's sidebar
};
function loadSearchFields() {
  try {
    const v = JSON.parse(localStorage.getItem(FIELDS_KEY) || '[]');
    return Array.isArray(v) ? v.filter((f) => typeof f === 'string') : [];
  } catch { return []; }
}
let vocabularyRequest = null;
function loadVocabulary() {
  if (!vocabularyRequest) {
    vocabularyRequest = fetch('/api/vocabulary', { credentials: 'same-origin' })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error('HTTP ' + r.status))))
      .then((v) => {
        vocabulary.commands = new Set(v.commands || []);
        vocabulary.evalFunctions = new Set(v.eval_functions || []);
        vocabulary.statsFunctions = new Set(v.stats_functions || []);
        vocabulary.fields = new Set(v.fields || []);
        vocabulary.loaded = true;
      });
  }
  return vocabularyRequest;
}

// ---- highlighting ------------------------------------------------------------------------------
// One tag per kind of SPL token, each a kind of a standard tag, and the class app.css colours it by.
const splTags = {
  command: Tag.define(tags.keyword),
  unknownCommand: Tag.define(tags.invalid),
  function: Tag.define(tags.variableName),
  field: Tag.define(tags.propertyName),
  keyword: Tag.define(tags.operatorKeyword),
  string: Tag.define(tags.string),
  number: Tag.define(tags.number),
  operator: Tag.define(tags.operator),
  pipe: Tag.define(tags.separator),
  bracket: Tag.define(tags.bracket),
  macro: Tag.define(tags.macroName),
  comment: Tag.define(tags.comment),
};
const splHighlighter = tagHighlighter(Object.entries(splTags).map(([name, tag]) => ({
  tag, class: 'spl-' + name.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()),
})));

function isFunctionIn(command, name) {
  if (EVAL_COMMANDS.has(command)) return vocabulary.evalFunctions.has(name.toLowerCase());
  if (STATS_COMMANDS.has(command)) {
    return vocabulary.statsFunctions.has(name.toLowerCase()) || PERCENTILE.test(name);
  }
  return false;
}

// A line-by-line tokenizer (CodeMirror's stream parser). The state says whether the next word is
// a command's name, which command's arguments are being read, and the commands of the searches
// that enclose a subsearch.
const splParser = {
  name: 'spl',
  startState: () => ({ expectCommand: false, command: 'search', afterBy: false, comment: false, outer: [] }),
  copyState: (s) => ({ ...s, outer: [...s.outer] }),
  token(stream, state) {
    if (state.comment) {  // a ```comment``` that began on an earlier line
      if (stream.skipTo('```')) { stream.pos += 3; state.comment = false; } else stream.skipToEnd();
      return 'comment';
    }
    if (stream.eatSpace()) return null;
    if (stream.match('```')) {
      if (stream.skipTo('```')) stream.pos += 3; else { stream.skipToEnd(); state.comment = true; }
      return 'comment';
    }
    const ch = stream.peek();
    if (ch === '`') {  // a macro: `name` or `name(args)`
      stream.next();
      if (stream.skipTo('`')) stream.next(); else stream.skipToEnd();
      return 'macro';
    }
    if (ch === '|') {
      stream.next();
      Object.assign(state, { expectCommand: true, afterBy: false });
      return 'pipe';
    }
    if (ch === '[') {
      stream.next();
      state.outer.push(state.command);
      Object.assign(state, { expectCommand: true, command: 'search', afterBy: false });
      return 'bracket';
    }
    if (ch === ']') {
      stream.next();
      Object.assign(state, { expectCommand: false, command: state.outer.pop() || 'search' });
      return 'bracket';
    }
    if (ch === '"') {
      stream.next();
      for (let c; (c = stream.next()) !== undefined;) {
        if (c === '\\') stream.next(); else if (c === '"') break;
      }
      return 'string';
    }
    if (ch === "'") {  // a field name in quotes (eval, where) or a quoted term
      stream.next();
      if (stream.skipTo("'")) stream.next(); else stream.skipToEnd();
      return 'field';
    }
    if (stream.match(/^(?:==|!=|<=|>=|[=<>!,()+*\/%])/)) return 'operator';
    if (stream.match(/^-?\d+(?:\.\d+)?(?=$|[\s|\[\]()=<>!,"])/)) return 'number';
    const word = stream.match(/^[^\s|\[\]()"'`=<>!,]+/);
    if (!word) { stream.next(); return null; }
    const w = word[0];
    if (state.expectCommand) {
      state.expectCommand = false;
      state.command = w.toLowerCase();
      state.afterBy = false;
      if (!vocabulary.loaded || vocabulary.commands.has(state.command)) return 'command';
      // A name being typed (the start of a command's) is not marked wrong yet.
      for (const c of vocabulary.commands) if (c.startsWith(state.command)) return null;
      return 'unknownCommand';
    }
    if (BOOLEAN_OPS.has(w)) return 'keyword';
    if (state.command !== 'search' && ARG_KEYWORDS.has(w.toLowerCase())) {
      state.afterBy = w.toLowerCase() !== 'as';
      return 'keyword';
    }
    const rest = stream.string.slice(stream.pos);
    if (/^\s*(?:[=<>]|!=)/.test(rest)) return 'field';
    // A function is called (eval), or in an aggregation list named alone (`stats count`); the
    // names after `by` are fields whatever they are called.
    const call = /^\s*\(/.test(rest);
    if (isFunctionIn(state.command, w) && (call || (STATS_COMMANDS.has(state.command) && !state.afterBy))) {
      return 'function';
    }
    if (state.afterBy) return 'field';
    return null;
  },
  tokenTable: splTags,
  languageData: { commentTokens: { block: { open: '```', close: '```' } } },
};

// ---- completion --------------------------------------------------------------------------------
// What the text before a word says about it: inside quotes, a command's name, or an argument of
// which command (the leading search is `search`'s), and whether it stands where a value goes.
export function completionContext(text) {
  let quote = null, start = 0;
  const outer = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '|') start = i + 1;
    else if (c === '[') { outer.push(start); start = i + 1; }
    else if (c === ']') start = outer.length ? outer.pop() : 0;
  }
  if (quote) return { quoted: true };
  const segment = text.slice(start);
  const subsearch = start > 0 && text[start - 1] === '[';
  if (start > 0 && /^\s*$/.test(segment)) return { atCommand: true, subsearch };
  const first = /^\s*([^\s|\[\]()"'`=<>!,]+)/.exec(segment);
  const command = start === 0 || (subsearch && first && !/^search$/i.test(first[1]))
    ? 'search' : (first ? first[1].toLowerCase() : 'search');
  return { command, value: /(?:[=<>]|!=)\s*$/.test(segment) };
}

function splCompletions(context) {
  const word = context.matchBefore(/[A-Za-z0-9_.{}@:*-]*/);
  if (!word || (word.from === word.to && !context.explicit)) return null;
  const at = completionContext(context.state.sliceDoc(0, word.from));
  // After `=` comes a value, but in eval and where an expression (functions, fields).
  if (at.quoted || (at.value && !EVAL_COMMANDS.has(at.command))) return null;
  const options = [];
  const add = (names, type, detail, apply) => {
    for (const label of names) options.push({ label, type, detail, apply: apply ? apply(label) : undefined });
  };
  if (at.atCommand) {
    add(vocabulary.commands, 'keyword', 'command');
  } else {
    if (EVAL_COMMANDS.has(at.command)) add(vocabulary.evalFunctions, 'function', 'function', (f) => f + '(');
    if (STATS_COMMANDS.has(at.command)) {
      add(vocabulary.statsFunctions, 'function', 'aggregation');
      add(['by', 'as'], 'keyword', 'keyword');
    }
    if (at.command === 'search') add(['AND', 'OR', 'NOT'], 'keyword', 'operator');
    const fields = new Set([...vocabulary.searchFields, ...vocabulary.fields]);
    add(fields, 'property', 'field');
  }
  // A word already written out in full is left alone, so that Enter runs the search (and so the
  // list is made anew at each key rather than narrowed: it is small).
  const typed = context.state.sliceDoc(word.from, word.to);
  const offered = options.filter((o) => o.label !== typed);
  if (!offered.length) return null;
  return { from: word.from, options: offered };
}

// ---- the editor --------------------------------------------------------------------------------
// Text typed over a selection goes into the document here rather than into the page by the
// browser: Chrome keeps the deleted text's colour on what replaces it with a style attribute,
// which the page's Content-Security-Policy refuses (and reports as an error).
const typeOverSelection = EditorView.domEventHandlers({
  beforeinput(event, view) {
    if (event.inputType !== 'insertText' || !event.data || event.isComposing || view.composing) return false;
    // The range the browser would replace, else the page's selection (the editor may not have
    // seen a selection made a moment ago yet).
    const sel = view.root.getSelection();
    const range = event.getTargetRanges()[0] || (sel && sel.rangeCount ? sel.getRangeAt(0) : null);
    if (!range || range.collapsed || !view.contentDOM.contains(range.startContainer) ||
        !view.contentDOM.contains(range.endContainer)) return false;
    const from = view.posAtDOM(range.startContainer, range.startOffset);
    const to = view.posAtDOM(range.endContainer, range.endOffset);
    event.preventDefault();
    view.dispatch({ changes: { from, to, insert: event.data }, selection: { anchor: from + event.data.length },
      userEvent: 'input.type', scrollIntoView: true });
    return true;
  },
});

// Makes the editor. `value` is its text at first; `onRun` is called on Enter. Returns an object
// whose `value` reads and replaces the text (like a textarea's), `focus()`, `dom` (to put in the
// page) and `addFields(names)` (field names to offer, e.g. from the field sidebar).
export function createSplEditor({ value = '', placeholder = '', onRun, id = 'spl' } = {}) {
  const language = new Compartment();
  const nonce = document.querySelector('meta[name="csp-nonce"]')?.content || '';
  const run = () => { if (onRun) onRun(); return true; };
  const view = new EditorView({
    state: EditorState.create({
      doc: value,
      extensions: [
        EditorView.cspNonce.of(nonce),
        typeOverSelection,
        history(),
        language.of(StreamLanguage.define(splParser)),
        syntaxHighlighting(splHighlighter),
        autocompletion({ override: [splCompletions], icons: false, closeOnBlur: true }),
        Prec.high(keymap.of([
          { key: 'Enter', run },
          { key: 'Mod-Enter', run },
          { key: 'Shift-Enter', run: insertNewline },
        ])),
        keymap.of([...historyKeymap, ...defaultKeymap]),
        EditorView.lineWrapping,
        placeholderText(placeholder),
        EditorView.contentAttributes.of({ id, 'aria-label': 'Search' }),
        EditorView.editorAttributes.of({ class: 'spl-editor' }),
      ],
    }),
  });
  // Known names change how a search highlights (an unknown command, a function): parse again
  // once they arrive.
  loadVocabulary().then(() => {
    view.dispatch({ effects: language.reconfigure(StreamLanguage.define(splParser)) });
  }).catch(() => { /* highlighting without the names; completion offers fields only */ });
  return {
    dom: view.dom,
    view,
    get value() { return view.state.doc.toString(); },
    set value(text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text },
        selection: { anchor: text.length } });
    },
    focus() { view.focus(); },
    addFields(names) {
      vocabulary.searchFields = new Set(names);
      try { localStorage.setItem(FIELDS_KEY, JSON.stringify([...names].slice(0, 300))); } catch { /* private mode */ }
    },
  };
}
