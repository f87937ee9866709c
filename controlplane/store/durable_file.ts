import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Replaces a file so that, even after a crash or kill -9 at any moment, it holds
 * either the old content or the new, never a mix: write a temp file, fsync it,
 * rename over the target, fsync the directory.
 */
export function writeFileDurably(file: string, data: string, mode = 0o600): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  const fd = fs.openSync(tmp, "w", mode);
  try {
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  syncDirectory(dir);
}

/** Appends one line and fsyncs it. */
export function appendLineDurably(file: string, line: string): void {
  const fd = fs.openSync(file, "a", 0o600);
  try {
    fs.writeSync(fd, line.endsWith("\n") ? line : line + "\n");
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function syncDirectory(dir: string): void {
  try {
    const fd = fs.openSync(dir, "r");
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  }
}
