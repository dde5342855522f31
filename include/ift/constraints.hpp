#pragma once
/// \file
/// Constrained problems, an opt-in module beside `<ift/ift.hpp>` (like `<ift/sparse.hpp>` and
/// `<ift/krylov.hpp>`):
///  * projections and proximal operators (`project_box`, `project_nonnegative`, `project_simplex`,
///    `project_l1_ball`, `project_l2_ball`, `prox_l1`, `prox_elastic_net`), generic over the scalar;
///  * `minimize_projected` (ProjectedGradient, ProjectedNewton) and `minimize_composite`
///    (ProximalGradient), differentiated on the fixed point x = prox(x − ∇f);
///  * `minimize_constrained` (AugmentedLagrangian) and `kkt_conditions`, differentiated on the KKT
///    system, for solutions found here or by any NLP solver;
///  * `quadratic_program` (InteriorPointQP), differentiated on its KKT matrix in closed form.

#include "ift/kkt.hpp"
#include "ift/minimize_composite.hpp"
#include "ift/minimize_constrained.hpp"
#include "ift/minimize_projected.hpp"
#include "ift/projections.hpp"
#include "ift/proximal.hpp"
#include "ift/quadratic_program.hpp"
