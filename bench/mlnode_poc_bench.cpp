// PoC throughput of the CPU engine: nonces/s with 1 worker thread, then with N (default 2), and the scaling
// ratio. Usage: mlnode_poc_bench [seconds_per_run=3] [threads=2]. Prints numbers only; asserts nothing.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "mlnode/poc/poc_service.h"

namespace {

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

struct Run {
  double nonces_per_second;
  double cores_used;  // CPU seconds / wall seconds: below the thread count when other processes compete
};

Run measure(unsigned threads, double seconds) {
  using namespace std::chrono;
  mlnode::poc::PocService service({threads, milliseconds(100)}, [](const std::string&, const std::string&) {
    return mlnode::poc::PostOutcome::kDelivered;
  });
  mlnode::poc::InitRequest init;
  init.node_id = 0;
  init.node_count = 1;
  init.block_hash = "00A1B2C3D4E5F60718293A4B5C6D7E8F";
  init.block_height = 1;
  init.public_key = "02bench";
  init.url = "http://127.0.0.1:9";
  if (!service.init_generate(init).ok()) std::abort();
  std::this_thread::sleep_for(milliseconds(300));  // warm-up: threads started, caches hot
  const uint64_t before = service.counters().nonces_computed.load();
  const double cpu_before = cpu_seconds();
  const auto start = steady_clock::now();
  std::this_thread::sleep_for(duration<double>(seconds));
  const uint64_t after = service.counters().nonces_computed.load();
  const double cpu = cpu_seconds() - cpu_before;
  const double elapsed = duration<double>(steady_clock::now() - start).count();
  service.stop();
  return {static_cast<double>(after - before) / elapsed, cpu / elapsed};
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
  const unsigned threads = argc > 2 ? static_cast<unsigned>(std::atoi(argv[2])) : 2;
  const mlnode::poc::ModelParams p;
  std::printf("PoC network: dim %d, layers %d, heads %d, ffn %d, vocab %d, seq_len %d; %u hardware threads\n",
              p.dim, p.n_layers, p.n_heads, p.ffn_dim, p.vocab_size, p.seq_len,
              std::thread::hardware_concurrency());
  const Run one = measure(1, seconds);
  std::printf("1 thread : %8.0f nonces/s (%.2f cores busy)\n", one.nonces_per_second, one.cores_used);
  const Run many = measure(threads, seconds);
  std::printf("%u threads: %8.0f nonces/s (%.2f cores busy)\n", threads, many.nonces_per_second,
              many.cores_used);
  std::printf("scaling ratio %u/1 threads: %.2f (per busy core: %.2f)\n", threads,
              many.nonces_per_second / one.nonces_per_second,
              (many.nonces_per_second / many.cores_used) / (one.nonces_per_second / one.cores_used));
  return 0;
}
