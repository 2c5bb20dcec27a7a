// The query page's editor: line numbers, syntax highlighting, Ctrl/Cmd+Enter runs the query.
// Written here (a few dozen lines) so the page loads nothing from elsewhere and works offline;
// without JavaScript the textarea is a plain form field and the page works the same.
(function () {
  "use strict";
  var KEYWORDS = /^(BASE|PREFIX|SELECT|DISTINCT|REDUCED|AS|CONSTRUCT|DESCRIBE|ASK|FROM|NAMED|WHERE|ORDER|BY|ASC|DESC|LIMIT|OFFSET|VALUES|OPTIONAL|GRAPH|UNION|MINUS|FILTER|BIND|GROUP|HAVING|EXISTS|NOT|IN|UNDEF|SERVICE|SILENT|COUNT|SUM|MIN|MAX|AVG|SAMPLE|GROUP_CONCAT|SEPARATOR|STR|LANG|LANGMATCHES|DATATYPE|BOUND|IRI|URI|BNODE|RAND|ABS|CEIL|FLOOR|ROUND|CONCAT|STRLEN|UCASE|LCASE|ENCODE_FOR_URI|CONTAINS|STRSTARTS|STRENDS|STRBEFORE|STRAFTER|YEAR|MONTH|DAY|HOURS|MINUTES|SECONDS|TIMEZONE|TZ|NOW|UUID|STRUUID|MD5|SHA1|SHA256|SHA384|SHA512|COALESCE|IF|STRLANG|STRDT|SAMETERM|ISIRI|ISURI|ISBLANK|ISLITERAL|ISNUMERIC|REGEX|SUBSTR|REPLACE|TRUE|FALSE|A)$/i;
  var TOKEN = /(#[^\n]*)|("""[\s\S]*?"""|'''[\s\S]*?'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|(<[^<>"{}|^`\\\s]*>)|([?$][\w\u00b7\u00c0-\uffff]+)|([A-Za-z][\w.-]*)?(:[\w\u00c0-\uffff.%-]*)|([A-Za-z_]+)/g;

  function escape(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function highlight(text) {
    var out = "", last = 0, m;
    TOKEN.lastIndex = 0;
    while ((m = TOKEN.exec(text)) !== null) {
      out += escape(text.slice(last, m.index));
      var cls = m[1] ? "cmt" : m[2] ? "str" : m[3] ? "iri" : m[4] ? "var" :
        m[6] !== undefined ? "pn" : KEYWORDS.test(m[7] || "") ? "kw" : "";
      out += cls ? '<span class="tok-' + cls + '">' + escape(m[0]) + "</span>" : escape(m[0]);
      last = TOKEN.lastIndex;
      if (m[0].length === 0) { TOKEN.lastIndex++; }
    }
    return out + escape(text.slice(last)) + "\n";
  }

  function setUp(textarea) {
    var editor = document.createElement("div");
    editor.className = "sparql-editor";
    var gutter = document.createElement("pre");
    gutter.className = "gutter";
    gutter.setAttribute("aria-hidden", "true");
    var area = document.createElement("div");
    area.className = "area";
    var shadow = document.createElement("pre");
    shadow.setAttribute("aria-hidden", "true");
    textarea.parentNode.insertBefore(editor, textarea);
    editor.appendChild(gutter);
    editor.appendChild(area);
    area.appendChild(shadow);
    area.appendChild(textarea);

    function refresh() {
      shadow.innerHTML = highlight(textarea.value);
      var lines = textarea.value.split("\n").length, numbers = [];
      for (var i = 1; i <= lines; i++) { numbers.push(i); }
      gutter.textContent = numbers.join("\n");
      sync();
    }
    function sync() {
      shadow.scrollTop = textarea.scrollTop;
      gutter.scrollTop = textarea.scrollTop;
    }
    textarea.addEventListener("input", refresh);
    textarea.addEventListener("scroll", sync);
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        textarea.form.requestSubmit ? textarea.form.requestSubmit() : textarea.form.submit();
      }
    });
    refresh();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var textarea = document.getElementById("sparql-query");
    if (textarea) { setUp(textarea); }
  });
}());
