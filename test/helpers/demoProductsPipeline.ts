/**
 * Child-process script (run through tsRegister.js, see there): the products demo exactly as
 * `geonode generate` writes it, ingested and analysed with the default parameters, into DIR:
 *   DIR/products (inputs + truth.json), DIR/tiles, DIR/index.sqlite (events + associations).
 *   node -r test/helpers/tsRegister.js test/helpers/demoProductsPipeline.ts DIR
 * Prints one JSON line with the stage summaries.
 */
import fs from 'node:fs';
import path from 'node:path';
import { eventsText, productsRange } from '../../src/demo/generate';
import { generateProductsDemo, PRODUCTS_LEAD_DAYS } from '../../src/demo/products';
import { DEMO_EVENTS } from '../../src/demo/quakes';
import { openIndexDb } from '../../src/index/db';
import { loadEventFiles } from '../../src/index/events';
import { analyze } from '../../src/products/analyze';
import { ingest } from '../../src/products/ingest';

async function run(dir: string): Promise<void> {
  const t0 = Date.now();
  const gen = await generateProductsDemo(dir, productsRange(3, PRODUCTS_LEAD_DAYS));
  const tiles = path.join(dir, 'tiles');
  const db = openIndexDb(path.join(dir, 'index.sqlite'));
  try {
    const ing = await ingest([path.join(dir, 'products')], { tilesDir: tiles, db });
    fs.writeFileSync(path.join(dir, 'events.txt'), eventsText(DEMO_EVENTS));
    loadEventFiles(db, [path.join(dir, 'events.txt')]);
    const an = await analyze({ tilesDir: tiles, db });
    process.stdout.write(
      JSON.stringify({ files: gen.files, ingestFailed: ing.failed, tiles: ing.tilesWritten, features: an.features, seconds: (Date.now() - t0) / 1000 }) + '\n',
    );
  } finally {
    db.close();
  }
}

run(process.argv[2]).catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
