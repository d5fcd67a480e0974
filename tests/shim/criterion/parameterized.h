/* The shim's <criterion/parameterized.h>: ParameterizedTestParameters
 * gives the array, ParameterizedTest the body, which the runner runs once
 * per element, as suite::name[i] (see criterion.h beside this file). */
#ifndef PARLAB_SHIM_CRITERION_PARAMETERIZED_H
#define PARLAB_SHIM_CRITERION_PARAMETERIZED_H

#include "criterion.h"

#define ParameterizedTestParameters(S_, N_)					\
	static struct criterion_test_params CR_SHIM_ID(S_, N_, params)(void)

#define ParameterizedTest(param_decl, S_, N_, ...)				\
	static struct criterion_test_params CR_SHIM_ID(S_, N_, params)(void);	\
	static void CR_SHIM_ID(S_, N_, body)(param_decl);			\
	static void CR_SHIM_ID(S_, N_, pfn)(void *param)			\
	{									\
		CR_SHIM_ID(S_, N_, body)(param);				\
	}									\
	CR_SHIM_REGISTER(S_, N_, .pfn = CR_SHIM_ID(S_, N_, pfn),		\
			 .params = CR_SHIM_ID(S_, N_, params), __VA_ARGS__)	\
	static void CR_SHIM_ID(S_, N_, body)(param_decl)

/* cr_make_param_array(Type, array, length[, cleanup]) */
#define cr_make_param_array(type, array, len, ...)				\
	((struct criterion_test_params){ .size = sizeof(type), .params = (array), \
					 .length = (len), __VA_ARGS__ })

#endif
