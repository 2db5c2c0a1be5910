// graygelf_server.js: the peer in the GELF benchmarks. Starts the GELF UDP server of the npm
// package `graygelf` (plain, zlib and gzip payloads, chunked messages; zlib inflation runs on
// libuv's thread pool) on 127.0.0.1:PORT and counts the messages it emits, in gelf_sink's output
// format, so run.sh compares the two the same way. It uses graygelf as shipped: graygelf does
// not set a receive buffer, so the socket gets net.core.rmem_default (GRAYGELF_RCVBUF=BYTES
// requests one, for a what-if).
//
// Prints "listening ..." once bound, then stops when no message has arrived for --quiet-ms
// (1 s) after the first one, or after --max-seconds, and prints one "key=value" line (with the
// CPU time the process used from the first message on, all threads).
//
// Usage: node graygelf_server.js --port N [--quiet-ms 1000] [--max-seconds 60]
// Env:   GRAYGELF_DIR (default /tmp/runner-bench-gelf/npm/node_modules/graygelf), GRAYGELF_RCVBUF
'use strict'

const path = require('path')

function option(name, fallback) {
  const index = process.argv.indexOf(name)
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback
}

const port = Number(option('--port', '0'))
const quietMs = Number(option('--quiet-ms', '1000'))
const maxSeconds = Number(option('--max-seconds', '60'))
if (!(port > 0 && port < 65536)) {
  console.error('usage: node graygelf_server.js --port N')
  process.exit(2)
}
const graygelfDir = process.env.GRAYGELF_DIR || '/tmp/runner-bench-gelf/npm/node_modules/graygelf'
const createServer = require(path.join(graygelfDir, 'server'))

let received = 0
let errors = 0
let first = 0n
let last = 0n
let cpuAtFirst = 0
const cpuSeconds = () => { const usage = process.cpuUsage(); return (usage.user + usage.system) / 1e6 }
const seen = new Set()

const server = createServer()
server.on('message', (gelf) => {
  last = process.hrtime.bigint()
  if (received++ === 0) {
    first = last
    cpuAtFirst = cpuSeconds()
  }
  if (typeof gelf._seq === 'number') seen.add(gelf._seq)
})
server.on('error', () => { errors++ })  // a payload it could not parse or inflate
server.listen(port, '127.0.0.1')

let rcvbuf = 0
server._udp.once('listening', () => {  // graygelf keeps its dgram socket in _udp
  if (process.env.GRAYGELF_RCVBUF) server._udp.setRecvBufferSize(Number(process.env.GRAYGELF_RCVBUF))
  rcvbuf = server._udp.getRecvBufferSize()
  console.log(`listening transport=udp port=${port} rcvbuf=${rcvbuf}`)
})

const start = process.hrtime.bigint()
const timer = setInterval(() => {
  const now = process.hrtime.bigint()
  const quiet = received > 0 && Number(now - last) / 1e6 >= quietMs
  const expired = Number(now - start) / 1e9 >= maxSeconds
  if (!quiet && !expired) return
  clearInterval(timer)
  server.close()
  const elapsed = received > 1 ? Number(last - first) / 1e9 : 0
  const rate = elapsed > 0 ? Math.round(received / elapsed) : 0
  const cpu = received > 0 ? cpuSeconds() - cpuAtFirst : 0  // all threads, zlib's pool included
  console.log(`sink transport=udp-graygelf received=${received} unique=${seen.size} ` +
              `invalid=${errors} dropped=0 oversize=0 datagrams=0 http_requests=0 ` +
              `elapsed_s=${elapsed.toFixed(3)} rate=${rate} rcvbuf=${rcvbuf} cpu_s=${cpu.toFixed(3)} ` +
              `per_cpu_s=${cpu > 0 ? Math.round(received / cpu) : 0}`)
}, 20)
