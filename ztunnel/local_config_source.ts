// Watches the local config file (and SIGHUP): each valid version replaces the
// state whole; an invalid one is reported and the last good state keeps serving.
import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigError } from "../config/errors.ts";
import type { DataPlaneSnapshot } from "../xds/resources.ts";
import { MAX_FILE_BYTES, parseLocalConfig } from "./local_config.ts";

/** Callbacks for {@link LocalConfigSource}. */
export interface LocalConfigSourceOptions {
  readonly file: string;
  readonly trustDomain: string;
  readonly onSnapshot: (snapshot: DataPlaneSnapshot) => void;
  readonly onError: (error: ConfigError) => void;
}

/** The file-backed config source (ztunnel's LOCAL_XDS_PATH mode). */
export class LocalConfigSource {
  #watcher: fs.FSWatcher | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastText: string | undefined;
  lastError: string | undefined;
  loadedAt: Date | undefined;

  constructor(private readonly options: LocalConfigSourceOptions) {}

  /** Loads the file now; throws the ConfigError when the first load is invalid. */
  loadInitial(): void {
    const snapshot = this.#read();
    this.options.onSnapshot(snapshot);
  }

  /** Watches the file's directory (editors replace files by rename) and SIGHUP. */
  watch(): void {
    const dir = path.dirname(path.resolve(this.options.file));
    const base = path.basename(this.options.file);
    this.#watcher = fs.watch(dir, (_event, name) => {
      if (name === null || name === base) this.#schedule();
    });
    process.on("SIGHUP", this.#onHup);
  }

  stop(): void {
    this.#watcher?.close();
    clearTimeout(this.#timer);
    process.off("SIGHUP", this.#onHup);
  }

  /** Reloads now; returns whether the new version was applied. */
  reload(force = false): boolean {
    try {
      const text = readLimited(this.options.file);
      if (!force && text === this.#lastText) return false;
      const snapshot = this.#read(text);
      this.options.onSnapshot(snapshot);
      return true;
    } catch (e) {
      const error = e instanceof ConfigError ? e : new ConfigError([{ file: this.options.file, field: "", message: (e as Error).message }]);
      this.lastError = error.message;
      this.options.onError(error);
      return false;
    }
  }

  readonly #onHup = () => void this.reload(true);

  #schedule(): void {
    clearTimeout(this.#timer);
    // Writes often come in several events; read once they settle.
    this.#timer = setTimeout(() => this.reload(), 50);
  }

  #read(text?: string): DataPlaneSnapshot {
    let body = text;
    if (body === undefined) {
      try {
        body = readLimited(this.options.file);
      } catch (e) {
        if (e instanceof ConfigError) throw e;
        throw new ConfigError([{ file: this.options.file, field: "", message: `cannot read: ${(e as Error).message}` }]);
      }
    }
    const snapshot = parseLocalConfig(body, this.options.file, { trustDomain: this.options.trustDomain });
    this.#lastText = body;
    this.lastError = undefined;
    this.loadedAt = new Date();
    return snapshot;
  }
}

/** Reads the file unless it is larger than the parser would accept. */
function readLimited(file: string): string {
  const size = fs.statSync(file).size;
  if (size > MAX_FILE_BYTES) throw new ConfigError([{ file, field: "", message: `file of ${size} bytes is larger than ${MAX_FILE_BYTES} bytes` }]);
  return fs.readFileSync(file, "utf8");
}
