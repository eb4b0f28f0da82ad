// A corpus for token agreement tests: ASCII prose, CJK, emoji, code, whitespace runs, numbers,
// other scripts, combining marks and special-token text (whole, partial and glued to words), then
// seeded combinations of those so every family gets well over 200 distinct strings. Written here
// for the tests; deterministic so a failure names the same string every run.

const PROSE = [
  "Hello world",
  "hello world",
  " Hello world",
  "The quick brown fox jumps over the lazy dog.",
  "Don't stop: it's what we'd do, isn't it? I'll say we've won; they're sure I'm right.",
  "DON'T SHOUT, IT'S RUDE. We'D see.",
  "Tinker is a fine-tuning API; tinker-ts is its TypeScript SDK.",
  "e.g., i.e., etc. -- and ... so on!!!",
  "Hello , world . What ? Yes !",
  "a",
  "",
  "CamelCaseIdentifierWithHTTPServer and snake_case_name",
  "https://example.com/path?query=1&x=y#frag",
  "user@example.org <user@example.org>",
  "\"Quoted\" and 'single' and `backtick`",
];
const CJK = [
  "你好，世界！",
  "机器学习是人工智能的一个分支。",
  "日本語のテキストとカタカナ、ひらがな。",
  "東京タワーは333メートルです。",
  "한국어 문장입니다.",
  "中英混合 mixed 文本 text",
  "繁體中文與简体中文",
];
const EMOJI = [
  "🙂",
  "emoji 🤖👍🏽 family 👨‍👩‍👧‍👦",
  "flags 🇫🇷🇯🇵 and keycaps 1️⃣ #️⃣",
  "🔥🔥🔥 fire",
  "❤️ ✓ ✗ ★ ☃",
  "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕞𝕒𝕥𝕙 𝑥²",
];
const CODE = [
  "def f(x):\n    return x ** 2  # square\n",
  "function add(a, b) {\n\treturn a + b;\n}\n",
  'const o = { "key": [1, 2, 3], nested: { ok: true } };',
  "for (let i = 0; i < 10; i++) console.log(`i=$" + "{i}`);",
  "SELECT id, name FROM users WHERE age >= 18 ORDER BY name;",
  '{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}',
  '<div class="x">&lt;tag&gt; &amp; text</div>',
  '#include <stdio.h>\nint main(void) { printf("%d\\n", 42); }',
  "x=1;y=2;z=x+y",
  "    indented = True\n        more_indented = False",
  "a==b!=c<=d>=e->f=>g::h",
  "$ npm install tinker-ts && tinker --help",
];
const WHITESPACE = [
  " ",
  "  ",
  "    ",
  "\t",
  "\n",
  "\n\n",
  "\r\n",
  " \n \n ",
  "words   with    runs     of      spaces",
  "trailing spaces   ",
  "   leading spaces",
  "tabs\tand\t\ttabs",
  "line one\nline two\r\nline three\n\n\nafter blank lines",
  "\u00a0non-breaking\u00a0spaces\u2003em space",
  "mixed \t \n \r whitespace",
];
const NUMBERS = [
  "0",
  "12",
  "123",
  "1234",
  "12345678901234567890",
  "3.14159 2.71828 -1e-10",
  "1,000,000 and 1 000 000",
  "2024-06-01T12:34:56Z",
  "v1.2.3-beta.4",
  "٣٤٥ ४५६",
];
const SCRIPTS = [
  "Привет, мир!",
  "مرحبا بالعالم",
  "שלום עולם",
  "नमस्ते दुनिया",
  "Γειά σου Κόσμε",
  "สวัสดีชาวโลก",
  "Xin chào thế giới",
  "Ça va? Déjà vu, naïve façade, Straße, Øre",
  "e\u0301 composed vs \u00e9 precomposed",
  "A\u030a ångström \u212b",
  "ﬁ ligature and ＦＵＬＬＷＩＤＴＨ",
];

/** Every piece the corpus is built from, by category (for messages). */
export const CORPUS_PIECES: Readonly<Record<string, readonly string[]>> = {
  prose: PROSE,
  cjk: CJK,
  emoji: EMOJI,
  code: CODE,
  whitespace: WHITESPACE,
  numbers: NUMBERS,
  scripts: SCRIPTS,
};

function rng(seed: number): () => number {
  // mulberry32: small, seeded, good enough to pick pieces.
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The corpus for a tokenizer whose special-token texts are `specials`: every piece, special-token
 * text in context, and seeded mixtures, at least `size` distinct strings.
 */
export function tokenizerCorpus(specials: readonly string[], size = 240, seed = 7): string[] {
  const pieces = Object.values(CORPUS_PIECES).flat();
  const out = new Set<string>(pieces);
  const picked = specials.slice(0, 12);
  for (const sp of picked) {
    out.add(sp);
    out.add(`${sp}user\nhello${sp}`);
    out.add(`text${sp}more text`);
    out.add(` ${sp} spaced `);
    out.add(`${sp}${sp}`);
    // Partial special text is plain text.
    out.add(sp.slice(0, Math.max(1, sp.length - 2)));
  }
  const next = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)] as T;
  const glue = ["", " ", "\n", "  ", "\t", ". ", ", "];
  while (out.size < size) {
    const n = 2 + Math.floor(next() * 3);
    let s = pick(pieces);
    for (let i = 1; i < n; i++) {
      s += pick(glue);
      s += picked.length > 0 && next() < 0.2 ? pick(picked) : pick(pieces);
    }
    out.add(s);
  }
  return [...out];
}
