#include "exact_engine_impl.hpp"

namespace bnconform::reference::exact {
BNCONFORM_INSTANTIATE_EXACT(1024)
}  // namespace bnconform::reference::exact
