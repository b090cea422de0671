// Runs a Node MCP server so that it listens on 127.0.0.1 only, whatever its own code asks for.
// The npm MCP servers call `app.listen(PORT)`, which binds every interface; tests must bind loopback only.
// Usage: node loopback.mjs <server script> [server args...]   (the port comes from the PORT variable)
import net from "node:net";
import path from "node:path";
import { pathToFileURL } from "node:url";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const [first] = args;
  if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
    const callbacks = args.slice(1).filter((a) => typeof a === "function");
    return listen.call(this, Number(first), "127.0.0.1", ...callbacks);
  }
  if (first && typeof first === "object" && "port" in first) {
    args[0] = { ...first, host: "127.0.0.1" };
  }
  return listen.apply(this, args);
};

const [script, ...rest] = process.argv.slice(2);
if (!script) {
  console.error("usage: node loopback.mjs <server script> [args...]");
  process.exit(2);
}
process.argv = [process.argv[0], path.resolve(script), ...rest];
await import(pathToFileURL(path.resolve(script)).href);
