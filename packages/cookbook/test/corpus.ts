// The conversations the template-agreement tests render: systems, multi-turn chats, tool calls
// and their results, thinking, unicode (CJK, emoji, accents), code with whitespace runs. Built
// from small pieces so every feature meets every other; content has no leading or trailing
// newlines (see docs/hosted-models.md: text is encoded message by message).

import type { Message, ToolSpec } from "../src/messages.js";

export const TOOLS: ToolSpec[] = [
  {
    name: "get_weather",
    description: "Current weather for a city",
    parameters: {
      type: "object",
      properties: {
        city: { type: "string", description: "City name" },
        unit: { type: "string", enum: ["c", "f"] },
      },
      required: ["city"],
    },
  },
  {
    name: "add",
    description: "Adds two numbers",
    parameters: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } } },
  },
];

const SYSTEMS = [undefined, "You are a helpful assistant.", "Réponds en français. 用中文也可以 🙂"];

const QUESTIONS = [
  "What is 2 + 2?",
  "日本の首都はどこですか？",
  "Write a haiku about autumn 🍁",
  "Fix this:\n```python\ndef f(x):\n    return  x*2   \n```",
  "Tabs\tand  double  spaces, then a line\nbreak.",
  'Explain <b>HTML</b> & "quotes" in one line.',
];

const ANSWERS = [
  "4.",
  "東京です。",
  "Red leaves drifting down\nthe river carries them home\nquiet afternoon 🍂",
  "```python\ndef f(x):\n    return x * 2\n```",
  "Sure: tabs\tstay tabs.",
  'Use &lt;b&gt; for bold; quotes are "fine".',
];

const THOUGHTS = [
  "The user asks for a sum. 2 + 2 = 4.",
  "首都は東京。短く答える。",
  "Five, seven, five syllables.",
  "The bug is the odd spacing; keep the logic.",
  "",
  "Escape the tags.",
];

function assistant(i: number, thinking: boolean): Message {
  const answer = ANSWERS[i % ANSWERS.length]!;
  const thought = THOUGHTS[i % THOUGHTS.length]!;
  if (!thinking || thought === "") return { role: "assistant", content: answer };
  return {
    role: "assistant",
    content: [
      { type: "thinking", thinking: thought },
      { type: "text", text: answer },
    ],
  };
}

/** Plain chats: one to three turns, with and without a system message, with and without thinking. */
export function chats(): Message[][] {
  const out: Message[][] = [];
  for (let s = 0; s < SYSTEMS.length; s++) {
    for (let turns = 1; turns <= 3; turns++) {
      for (const [thinking, shift] of [
        [false, 0],
        [true, 0],
        [false, 3],
        [true, 3],
      ] as const) {
        const conv: Message[] = [];
        const system = SYSTEMS[s];
        if (system) conv.push({ role: "system", content: system });
        for (let t = 0; t < turns; t++) {
          const i = s * 3 + t + turns + shift;
          conv.push({ role: "user", content: QUESTIONS[i % QUESTIONS.length]! });
          conv.push(assistant(i, thinking));
        }
        out.push(conv);
      }
    }
  }
  return out; // 3 systems × 3 lengths × 4 = 36
}

function call(name: string, args: Record<string, unknown>, id: string) {
  return { type: "function" as const, id, function: { name, arguments: JSON.stringify(args) } };
}

/** Tool-using conversations: one call, two parallel calls, two rounds, with text and thinking. */
export function toolChats(): Message[][] {
  const out: Message[][] = [];
  const cities = ["Paris", "東京", "São Paulo"];
  for (let k = 0; k < cities.length; k++) {
    const city = cities[k]!;
    for (const thinking of [false, true]) {
      for (const withText of [false, true]) {
        const content = withText ? `Let me check ${city}.` : "";
        const first: Message = {
          role: "assistant",
          content: thinking
            ? [
                { type: "thinking", thinking: `I need the weather for ${city}.` },
                ...(content ? [{ type: "text" as const, text: content }] : []),
              ]
            : content,
          tool_calls: [call("get_weather", { city, unit: "c" }, `call_${k}`)],
        };
        out.push([
          { role: "system", content: "You can call tools." },
          { role: "user", content: `Weather in ${city}?` },
          first,
          {
            role: "tool",
            content: `{"temp": ${20 + k}, "sky": "clear ☀️"}`,
            tool_call_id: `call_${k}`,
            name: "get_weather",
          },
          { role: "assistant", content: `It is ${20 + k} °C and clear in ${city}.` },
        ]);
      }
    }
    // Two calls in one message, two results in a row, then a follow-up question.
    out.push([
      { role: "user", content: `Weather in ${city} and 3 + 4?` },
      {
        role: "assistant",
        content: "",
        tool_calls: [call("get_weather", { city }, "a"), call("add", { a: 3, b: 4 }, "b")],
      },
      { role: "tool", content: "sunny", tool_call_id: "a", name: "get_weather" },
      { role: "tool", content: "7", tool_call_id: "b", name: "add" },
      { role: "assistant", content: `Sunny in ${city}, and 3 + 4 = 7.` },
      { role: "user", content: "Thanks! 谢谢" },
      { role: "assistant", content: "You're welcome 😊" },
    ]);
    // Two rounds of tools in one turn.
    out.push([
      { role: "user", content: `Add 1 and 2, then add 10 to that, for ${city}.` },
      { role: "assistant", content: "", tool_calls: [call("add", { a: 1, b: 2 }, "r1")] },
      { role: "tool", content: "3", tool_call_id: "r1", name: "add" },
      {
        role: "assistant",
        content: [{ type: "thinking", thinking: "Now add 10." }],
        tool_calls: [call("add", { a: 3, b: 10 }, "r2")],
      },
      { role: "tool", content: "13", tool_call_id: "r2", name: "add" },
      { role: "assistant", content: "The result is 13." },
    ]);
  }
  return out; // 3 × (4 + 2) = 18
}

/** Odd shapes: system only then user, answers with emoji only, a long code block, string thinking. */
export function edgeChats(): Message[][] {
  const out: Message[][] = [];
  for (let i = 0; i < QUESTIONS.length; i++) {
    out.push([
      { role: "user", content: QUESTIONS[i]! },
      { role: "assistant", content: `<think>\n${THOUGHTS[i] || "ok"}\n</think>\n\n${ANSWERS[i]}` },
    ]);
    out.push([
      { role: "system", content: `Rule ${i}: be brief.` },
      { role: "user", content: "🙂🙃🙂" },
      { role: "assistant", content: "👍" },
      { role: "user", content: QUESTIONS[(i + 1) % QUESTIONS.length]! },
      assistant(i + 1, i % 2 === 0),
    ]);
    out.push([
      { role: "user", content: QUESTIONS[i]! },
      assistant(i, true),
      { role: "system", content: "From now on, answer in one word." },
      { role: "user", content: QUESTIONS[(i + 2) % QUESTIONS.length]! },
      assistant(i + 2, false),
    ]);
    out.push([
      { role: "user", content: `${QUESTIONS[i]!} ${QUESTIONS[(i + 3) % QUESTIONS.length]!}` },
      { role: "assistant", content: `${ANSWERS[i]!} — ${ANSWERS[(i + 3) % ANSWERS.length]!}` },
    ]);
  }
  return out; // 24
}

/** Every conversation of the corpus: 36 chats, 18 with tools, 24 edge cases. */
export function corpus(): Message[][] {
  return [...chats(), ...toolChats(), ...edgeChats()];
}
