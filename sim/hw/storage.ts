// Virtual hardware: the board's Storage (flash files), shared by the engines' models of it. Files
// are latin1 strings; with a file given, the contents are loaded from it at start and rewritten on
// every change. The realm hooks (stWrite, stRead, ...) are the V8 engine's require("Storage").
import * as fs from "node:fs";
import type { BoardId } from "./pins";

export const STORAGE_BYTES: Record<BoardId, number> = { esp32: 1048576, esp8266: 196608 };

export class Storage {
  /** the files (latin1 strings); tests may read and write it directly */
  readonly files: Record<string, string> = {};

  constructor(
    readonly board: BoardId,
    private readonly file?: string,
    initial?: Record<string, string>,
  ) {
    if (file && fs.existsSync(file)) Object.assign(this.files, JSON.parse(fs.readFileSync(file, "latin1")));
    if (initial) Object.assign(this.files, initial);
  }

  get totalBytes(): number {
    return STORAGE_BYTES[this.board];
  }

  free(): number {
    let used = 0;
    for (const k of Object.keys(this.files)) used += 32 + ((this.files[k].length + 3) & ~3);
    return Math.max(0, this.totalBytes - used);
  }

  /** require("Storage").write(name, data, offset, size): false when it does not fit */
  write(name: string, data: string, off: number, size: number): boolean {
    if (!name.length || name.length > 28) throw new Error("Storage filename must be 1..28 characters: " + JSON.stringify(name));
    let content: string;
    // like Espruino: the size creates the file at offset 0 (or when it does not exist yet); a write at
    // an offset into an existing file fills in its bytes
    if (size >= 0 && (off <= 0 || this.files[name] === undefined)) content = "\xff".repeat(size);
    else if (off >= 0) {
      const f = this.files[name];
      if (f === undefined) throw new Error("Storage: file " + name + " does not exist (write with a size first)");
      content = f;
    } else content = "";
    const at = Math.max(0, off);
    if (size >= 0 || off >= 0) {
      if (at + data.length > content.length) throw new Error("Storage: write beyond the end of " + name);
      content = content.substr(0, at) + data + content.substr(at + data.length);
    } else content = data;
    const old = this.files[name];
    delete this.files[name];
    if (this.free() < 32 + content.length) {
      if (old !== undefined) this.files[name] = old;
      return false;
    }
    this.files[name] = content;
    this.persist();
    return true;
  }

  read(name: string, off = 0, len = -1): string | undefined {
    const f = this.files[name];
    if (f === undefined) return undefined;
    return len < 0 ? f.substr(off) : f.substr(off, len);
  }

  /** sets a file whole (the test side; no size check) */
  put(name: string, data: string): void {
    this.files[name] = data;
    this.persist();
  }

  erase(name: string): void {
    delete this.files[name];
    this.persist();
  }

  eraseAll(): void {
    for (const k of Object.keys(this.files)) delete this.files[k];
    this.persist();
  }

  list(): string[] {
    return Object.keys(this.files);
  }

  persist(): void {
    if (this.file) fs.writeFileSync(this.file, JSON.stringify(this.files), "latin1");
  }

  /** the V8 realm's Storage hooks */
  realmHooks(): Record<string, (...a: any[]) => any> {
    return {
      stWrite: (n: string, d: string, off: number, size: number) => this.write(n, d, off, size),
      stRead: (n: string, off: number, len: number) => this.read(n, off, len),
      stErase: (n: string) => this.erase(n),
      stEraseAll: () => this.eraseAll(),
      stList: () => JSON.stringify(this.list()),
      stFree: () => this.free(),
      stStats: () => {
        const used = this.totalBytes - this.free();
        return JSON.stringify({ totalBytes: this.totalBytes, freeBytes: this.free(), fileBytes: used, fileCount: Object.keys(this.files).length, trashBytes: 0, trashCount: 0 });
      },
    };
  }
}
