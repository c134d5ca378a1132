/* vereinbar portal: search in the browser, without a server.
 *
 * The index (suchindex.js) was built with the bot's analyzer (bot/search/textnorm.py); this
 * file ports its algorithm — fold, words, stem, terms — and takes everything else from the
 * index: stop words, expansions, phrases and the stem of every word of the knowledge base
 * (Snowball, computed at build time). So the browser finds the bot's terms for every known
 * word (a browser test compares both on every text of the bundled knowledge bases); unknown
 * words and typos are compared with the index's terms by prefix and edit distance.
 *
 * Progressive enhancement: without this script the page still lists every entry A–Z.
 */
(function () {
  "use strict";

  var index = window.VEREINBAR_SUCHINDEX;
  if (!index) {
    return;
  }
  var norm = index.norm;
  var LANGUAGE = index.language || document.documentElement.lang || "de";

  // --- textnorm.fold ---------------------------------------------------------------------
  var INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;
  var GENDER = /(?<=[\p{L}\p{N}_])[*:_/·]\s?in(nen)?(?![\p{L}\p{N}_])|(?<=[a-z])In(nen)?(?![\p{L}\p{N}_])/gu;
  var UMLAUTS = {
    "ä": "a", "ö": "o", "ü": "u", "ß": "ss", "æ": "ae", "ø": "o",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-"
  };
  var UMLAUT_RE = /[äöüßæø\u2010-\u2014\u2212]/g;

  function fold(text) {
    var t = text.normalize("NFKC").replace(INVISIBLE, "");
    t = t.replace(GENDER, "");
    t = t.toLowerCase().replace(UMLAUT_RE, function (c) { return UMLAUTS[c]; });
    return t.split("ae").join("a").split("oe").join("o").split("ue").join("u");
  }

  // --- Analyzer.words --------------------------------------------------------------------
  var WORD = /[a-z0-9]+(?:-[a-z0-9]+)*/g;
  var EXPANSIONS = new Map(Object.entries(norm.expansions));
  var PHRASES = new Map(norm.phrases);
  var PHRASE_RE = norm.phrases.length ? new RegExp(
    "\\b(" + norm.phrases.map(function (p) {
      return p[0].replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");
    }).join("|") + ")\\b",
    "g"
  ) : null;

  function expanded(word) {
    return (EXPANSIONS.has(word) ? EXPANSIONS.get(word) : word).trim().split(/\s+/);
  }

  function words(text) {
    var folded = fold(text);
    if (PHRASE_RE) {
      folded = folded.replace(PHRASE_RE, function (m) { return PHRASES.get(m); });
    }
    var result = [];
    var matches = folded.match(WORD) || [];
    matches.forEach(function (word) {
      if (EXPANSIONS.has(word)) {
        result.push.apply(result, expanded(word));
      } else if (word.indexOf("-") >= 0) {
        var parts = word.split("-").filter(Boolean);
        parts.forEach(function (part) { result.push.apply(result, expanded(part)); });
        result.push(parts.join(""));
      } else {
        result.push(word);
      }
    });
    return result;
  }

  // --- Analyzer.stem: looked up, since the stems were computed at build time -----------
  var FEMININE = /(?<=[a-z]{2})(?:(?<=er|or|nt|st|ef|og|af|at|ur|ol|ar|eg|zt)in$|innen$)/;
  var DIGITS = /^[0-9]+$/;
  var STEMS = new Map(Object.entries(norm.stems));

  function stem(word) {
    if (word.length <= 3 || DIGITS.test(word)) {
      return word;
    }
    if (STEMS.has(word)) {
      return STEMS.get(word) || word;
    }
    // an unknown word: feminine forms as the analyzer treats them, the rest by similarity
    return word.length > 6 ? word.replace(FEMININE, "") : word;
  }

  // --- Analyzer.terms --------------------------------------------------------------------
  var REF = /(?<![\d.])(\d{1,2}\.\d{1,2}\.\d{1,2})(?![\d.])/g;
  var STOP = new Set(norm.stop);
  var LEADER_STEMS = new Set(norm.leaderStems);

  function terms(text) {
    var seen = [];
    var add = function (t) { if (seen.indexOf(t) < 0) { seen.push(t); } };
    words(text.replace(REF, " ")).forEach(function (word) {
      if (STOP.has(word) || (word.length < 2 && !DIGITS.test(word))) {
        return;
      }
      var stemmed = stem(word);
      add(stemmed);
      if (LEADER_STEMS.has(stemmed)) {
        add(norm.leaderStem);
      }
    });
    return seen;
  }

  function refsIn(text) {
    return Array.from(text.matchAll(REF), function (m) { return m[1]; });
  }

  // --- ranking ---------------------------------------------------------------------------
  var vocabulary = Object.entries(index.terms);
  var entries = index.entries;

  /* Optimal string alignment distance, given up once it exceeds max. */
  function distance(a, b, max) {
    if (Math.abs(a.length - b.length) > max) {
      return max + 1;
    }
    var prev2 = null;
    var prev = [];
    for (var j = 0; j <= b.length; j++) {
      prev.push(j);
    }
    for (var i = 1; i <= a.length; i++) {
      var row = [i];
      var best = i;
      for (j = 1; j <= b.length; j++) {
        var cost = a[i - 1] === b[j - 1] ? 0 : 1;
        var d = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost);
        if (prev2 && i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
          d = Math.min(d, prev2[j - 2] + 1);
        }
        row.push(d);
        best = Math.min(best, d);
      }
      if (best > max) {
        return max + 1;
      }
      prev2 = prev;
      prev = row;
    }
    return prev[b.length];
  }

  /* How well a query term matches an index term, 0 (not at all) to 1 (equal). */
  function similarity(q, t) {
    if (q === t) {
      return 1;
    }
    if (q.length >= 4 && t.indexOf(q) === 0) {
      return 0.8; // "kita" finds "kitaplatz"
    }
    if (t.length >= 4 && q.indexOf(t) === 0 && q.length - t.length <= 3) {
      return 0.8; // "fuhrung" finds "fuhr" (Führen)
    }
    var shorter = Math.min(q.length, t.length);
    var max = shorter >= 8 ? 2 : shorter >= 4 ? 1 : 0;
    if (max === 0) {
      return 0;
    }
    var d = distance(q, t, max);
    if (d > max) {
      return 0;
    }
    return d === 1 ? 0.7 : 0.5;
  }

  function search(query, limit) {
    var wanted = terms(query);
    var refs = refsIn(query);
    var scores = new Map();
    wanted.forEach(function (q) {
      var best = new Map();
      vocabulary.forEach(function (item) {
        var sim = similarity(q, item[0]);
        if (!sim) {
          return;
        }
        item[1].p.forEach(function (posting) {
          var value = sim * posting[1] * item[1].idf;
          if (value > (best.get(posting[0]) || 0)) {
            best.set(posting[0], value);
          }
        });
      });
      best.forEach(function (value, n) {
        var s = scores.get(n) || { score: 0, hits: 0 };
        s.score += value;
        s.hits += 1;
        scores.set(n, s);
      });
    });
    entries.forEach(function (entry, n) {
      if (entry.ref && refs.indexOf(entry.ref) >= 0) {
        var s = scores.get(n) || { score: 0, hits: 0 };
        s.score += 1000;
        s.hits = Math.max(s.hits, wanted.length);
        scores.set(n, s);
      }
    });
    var ranked = Array.from(scores, function (pair) {
      var coverage = wanted.length ? pair[1].hits / wanted.length : 1;
      return { entry: entries[pair[0]], score: pair[1].score * (0.4 + 0.6 * coverage) };
    });
    ranked.sort(function (a, b) {
      return b.score - a.score || a.entry.title.localeCompare(b.entry.title, LANGUAGE);
    });
    if (!ranked.length) {
      return [];
    }
    var floor = ranked[0].score * 0.3;
    return ranked.filter(function (r) { return r.score >= floor; }).slice(0, limit || 10);
  }

  window.VereinbarSuche = { fold: fold, words: words, stem: stem, terms: terms, search: search };

  // --- the search page -------------------------------------------------------------------
  var form = document.getElementById("suche");
  var input = document.getElementById("q");
  var status = document.getElementById("suche-status");
  var list = document.getElementById("treffer");
  if (!form || !input || !status || !list) {
    return;
  }

  /* The page's catalogue text (data-found, data-none) with {count} and {query} filled in. */
  function worded(name, count, query) {
    return (status.dataset[name] || "").replace(/\{(count|query)\}/g, function (m, key) {
      return key === "count" ? String(count) : query;
    });
  }

  function show(query) {
    var text = query.trim();
    var results = text ? search(text, 12) : [];
    list.replaceChildren();
    results.forEach(function (r) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = r.entry.url;
      link.textContent = r.entry.title;
      var meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = r.entry.label;
      var snippet = document.createElement("p");
      snippet.textContent = r.entry.snippet;
      item.append(link, meta, snippet);
      list.append(item);
    });
    list.hidden = results.length === 0;
    if (!text) {
      status.textContent = "";
    } else {
      status.textContent = worded(results.length ? "found" : "none", results.length, text);
    }
  }

  function remember(query) {
    try {
      history.replaceState(null, "", "?q=" + encodeURIComponent(query));
    } catch (e) {
      // some browsers refuse to change the address of a file:// page; the search still works
    }
  }

  var pending = null;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearTimeout(pending);
    remember(input.value);
    show(input.value);
  });
  input.addEventListener("input", function () {
    clearTimeout(pending);
    pending = setTimeout(function () { show(input.value); }, 250);
  });

  var initial = new URLSearchParams(window.location.search).get("q");
  if (initial) {
    input.value = initial;
    show(initial);
  }
})();
