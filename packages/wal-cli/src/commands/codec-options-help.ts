/**
 * The help lines of the codec options the reading commands share (`inspect`, `verify`, `stat`, `dump`): one text,
 * so the four cannot drift apart when a codec or the default rule changes.
 */
export const CODEC_OPTIONS_HELP = `  -c, --codec <name>  payload codec: lora, json, bytes, or framing (check the
                      framing only: records, LSNs, CRCs, transactions; decode
                      no payload). Without --codec: lora, or framing only when
                      lora does not decode the first mutation record (said in
                      the output; never exit 5, never corruption for it)
      --codec-module <file>
                      your own PayloadCodec: an ES module exporting it as
                      'codec' (or as its default export)`;
