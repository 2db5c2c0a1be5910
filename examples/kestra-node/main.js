// A component written for Kestra, unchanged: it reports logs, outputs and metrics with Kestra's own
// client library (@kestra-io/libs), which prints them as ::{...}:: lines that runner understands.
const fs = require('fs');
const Kestra = require('@kestra-io/libs');

const logger = Kestra.logger();
const config = JSON.parse(fs.readFileSync('/data/config.json', 'utf8'));
const partitions = config.parameters.partitions || ['a', 'b'];

logger.info(`Processing ${partitions.length} partitions`);
let total = 0;
for (const partition of partitions) {
  const started = Date.now();
  const rows = 10 + partition.charCodeAt(0) % 7;
  total += rows;
  console.log(`partition ${partition}: ${rows} rows`);
  Kestra.counter('rows', rows, {partition});
  Kestra.timer('processing_time', (Date.now() - started) / 1000 + 0.25, {partition});
}
if (total > 30) logger.warn(`Large run: ${total} rows`);
fs.writeFileSync('/data/out/files/summary.txt', `${total} rows\n`);
Kestra.outputs({total_rows: total, partitions});
logger.debug('done');
