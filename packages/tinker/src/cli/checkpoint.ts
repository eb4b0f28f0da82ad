// `tinker checkpoint ...`: checkpoints (contract 3.3, 3.11), and push-hf to the Hugging Face Hub.

import type { Command } from "commander";
import * as del from "./checkpoint-delete.js";
import * as download from "./checkpoint-download.js";
import * as info from "./checkpoint-info.js";
import * as list from "./checkpoint-list.js";
import * as publish from "./checkpoint-publish.js";
import * as pushHf from "./checkpoint-push-hf.js";
import * as setTtl from "./checkpoint-set-ttl.js";

export function register(program: Command): void {
  const group = program
    .command("checkpoint")
    .description(
      "Checkpoints: list, inspect, publish, expire, delete, download, push to the Hugging Face Hub",
    );
  list.register(group);
  info.register(group);
  publish.register(group);
  setTtl.register(group);
  del.register(group);
  download.register(group);
  pushHf.register(group);
}
