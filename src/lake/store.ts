/**
 * The object-store seam of the lake. Keys are `/`-separated paths relative to the lake root.
 * `put` and `putFile` are atomic: a reader sees the whole object or no object. They are also
 * durable when they return, and so is `rename`: the object survives an OS crash or power cut,
 * not only a crash of the process. Manifests rely on it: a manifest is committed right after the
 * objects it names are stored, and a committed manifest (with the source cursor or stream
 * sequence numbers it carries) must never name bytes the disk did not keep. The local-folder
 * store fsyncs a file's data before renaming it into place and the folder after; S3 acknowledges
 * a PUT once it is stored durably. The local-folder store is the default; an S3 store implements
 * the same interface (S3 PUTs are atomic too).
 */

export interface ObjectInfo {
  key: string;
  size: number;
}

export interface ObjectStore {
  /** A display form of the root: a folder path or `s3://bucket/prefix`. */
  readonly root: string;
  get(key: string): Promise<Buffer | undefined>;
  put(key: string, data: string | Uint8Array): Promise<void>;
  /**
   * Stores a local file under `key`, durably when it returns (the caller need not have synced
   * the file); with `move`, the local file is consumed (renamed when possible).
   */
  putFile(key: string, localPath: string, options?: { move?: boolean }): Promise<void>;
  exists(key: string): Promise<boolean>;
  /** Every object whose key starts with `prefix`, sorted by key. */
  list(prefix: string): Promise<ObjectInfo[]>;
  delete(key: string): Promise<void>;
  /**
   * Moves an object to a new key (a rename locally; copy-then-delete on stores without rename),
   * durably when it returns.
   */
  rename(from: string, to: string): Promise<void>;
  /** A location an engine can read the object from: an absolute path for local stores. */
  readableLocation(key: string): string;
  /**
   * Deletes what writes that never finished left under `prefix` (temporary objects no reader
   * sees), returning how many. Only for the project's owner: another writer's may be in flight.
   */
  removePartialWrites(prefix: string): Promise<number>;
}
