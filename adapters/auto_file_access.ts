/**
 * Registers the running runtime's local file access for the servers' `LocalFileSystem`, on
 * import: Deno's own lookups where `auto.ts` chose Deno's network, `node:fs` elsewhere (and
 * under `STREAMFTP_ADAPTER=node`). The server's entry points import it; the client's do not,
 * as it loads `node:fs`, which costs a Deno process 25–40 ms of start-up.
 *
 * @module
 */

import { defaultNetwork } from "../lib/network_registry.ts";
import { setDefaultFileAccess } from "../lib/file_access_registry.ts";
import { denoFileAccess } from "./_deno_files.ts";
import { denoNetwork } from "./deno.ts";
import "./auto.ts";

if (defaultNetwork() === denoNetwork) setDefaultFileAccess(denoFileAccess);
