#include "transport/io_runtime_impl.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace beryl {

io_runtime::io_runtime(std::size_t threads) : impl_(std::make_unique<impl>()) {
  threads = std::max<std::size_t>(1, threads);
  impl_->running = threads;
  for (std::size_t i = 0; i < threads; ++i) {
    auto* context = impl_->contexts.emplace_back(std::make_unique<impl::thread_context>()).get();
    context->work.emplace(context->ioc.get_executor());
    impl_->threads.emplace_back([this, context] {
      context->unit.bind_to_this_thread();
      try {
        context->ioc.run();
      } catch (const std::exception& e) {
        spdlog::critical("network thread stopped by an exception: {}", e.what());
      }
      std::lock_guard lock(impl_->mutex);
      if (--impl_->running == 0) impl_->all_done.notify_all();
    });
  }
}

io_runtime::~io_runtime() {
  stop();
}

void io_runtime::stop() {
  for (auto& context : impl_->contexts) {
    context->work.reset();
    context->ioc.stop();
  }
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
  for (auto& context : impl_->contexts) context->ioc.shutdown();
}

void io_runtime::drain(std::chrono::milliseconds limit) {
  for (auto& context : impl_->contexts) context->work.reset();
  std::unique_lock lock(impl_->mutex);
  impl_->all_done.wait_for(lock, limit, [this] { return impl_->running == 0; });
}

std::size_t io_runtime::threads() const {
  return impl_->threads.size();
}

}  // namespace beryl
