// Reads {"before": spec, "after": spec} as JSON on stdin and prints the
// api-smart-diff changes as JSON: [{action, path, type, description}].
// tools/api_diff.py runs it; the differ is installed into .tools by make.
const { apiCompare } = require("api-smart-diff");

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const { before, after } = JSON.parse(input);
  const { diffs } = apiCompare(before, after);
  const plain = diffs.map((d) => ({
    action: d.action,
    path: d.path,
    type: d.type,
    description: d.description || "",
    before: d.before === undefined ? null : d.before,
    after: d.after === undefined ? null : d.after,
  }));
  process.stdout.write(JSON.stringify(plain));
});
