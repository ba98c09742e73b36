// Raw MQTT framing for tests that talk to a broker below the client library (oversized, truncated
// or hostile packets).

/** MQTT's variable-length "remaining length". */
export function mqttLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}
