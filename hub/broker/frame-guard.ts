// Reads MQTT fixed headers (type byte, remaining length) off the raw byte stream, before aedes'
// parser buffers anything: aedes 1.x has no packet size limit, so one unauthenticated CONNECT that
// declares 256 MB makes it hold every byte sent until the packet is complete. The guard knows each
// packet's size from its first 2–5 bytes and says "too big" at once, so nothing past the header is
// ever buffered. Pure: bytes in, verdict out (listen.ts applies it to sockets).

export interface FrameLimits {
  /** Largest whole packet (header included) once connected. Default 4 MiB, as Mosquitto's max_packet_size here. */
  maxPacketBytes: number;
  /** Largest first packet (CONNECT, sent before any authentication). */
  maxConnectBytes: number;
}

export type FrameVerdict = { ok: true } | { ok: false; reason: 'packet_too_large' | 'malformed_length'; declared: number };

const OK: FrameVerdict = { ok: true };

export class FrameGuard {
  private inBody = false;
  private inLength = false;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;
  private packets = 0;

  constructor(private readonly limits: FrameLimits) {}

  /** Consumes the next chunk of the stream; the first bad verdict is final (close the connection). */
  feed(chunk: Uint8Array): FrameVerdict {
    let i = 0;
    while (i < chunk.length) {
      if (this.inBody) {
        const take = Math.min(this.remaining, chunk.length - i);
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) this.inBody = false;
      } else if (!this.inLength) {
        // The type byte: its checks are the parser's job.
        i++;
        this.inLength = true;
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
      } else {
        const b = chunk[i++];
        this.length += (b & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        this.lengthBytes++;
        if (b & 0x80) {
          if (this.lengthBytes >= 4) return { ok: false, reason: 'malformed_length', declared: this.length };
          continue;
        }
        this.inLength = false;
        const total = 1 + this.lengthBytes + this.length;
        if (total > (this.packets === 0 ? this.limits.maxConnectBytes : this.limits.maxPacketBytes))
          return { ok: false, reason: 'packet_too_large', declared: total };
        this.packets++;
        this.remaining = this.length;
        this.inBody = this.remaining > 0;
      }
    }
    return OK;
  }
}
