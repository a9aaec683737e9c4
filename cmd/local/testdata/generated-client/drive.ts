// Drives the API with a client generated from our served description by
// the IO project's own generator (gen-api-models --client), as an
// integrator would: each submission is made with and without the optional
// Idempotency-Key, and the results are printed as JSON for the Go test.
import { isLeft } from "fp-ts/lib/Either";
import { createClient } from "./gen/client";

const baseUrl = process.env.API_URL as string;
const key = process.env.API_KEY as string;
const fiscalCode = process.env.FISCAL_CODE as string;
const client = createClient({ baseUrl, fetchApi: fetch as any });

async function submit(subject: string, idempotencyKey?: string) {
  const r = await client.submitMessageforUser({
    SubscriptionKey: key,
    fiscal_code: fiscalCode,
    message: { content: { subject, markdown: "Gentile cittadino, ".repeat(5) } } as any,
    ...(idempotencyKey === undefined ? {} : { "idempotency-Key": idempotencyKey })
  });
  if (isLeft(r)) {
    return { decoded: false, errors: r.left.map(e => e.message ?? JSON.stringify(e.context.map(c => c.key))) };
  }
  const h = r.right.headers as any; // the fetch response's Headers
  const value = r.right.value as any;
  return {
    decoded: true,
    status: r.right.status,
    location: (typeof h?.get === "function" ? h.get("Location") : h?.Location) ?? null,
    title: value?.title ?? null
  };
}

async function main() {
  const out: Record<string, unknown> = {};
  out.without_key = [
    await submit("Primo avviso senza chiave"),
    await submit("Secondo avviso senza chiave"),
    await submit("Terzo avviso senza chiave")
  ];
  out.with_key = [await submit("Avviso con chiave", "drive-key-1"), await submit("Avviso con chiave", "drive-key-1")];
  out.bad_key = await submit("Avviso con chiave sbagliata", "not a key");
  console.log(JSON.stringify(out));
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
