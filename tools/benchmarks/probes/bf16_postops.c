// oneDNN 2.6 bf16 matmul (256 rows, one thread, weights in the layout it asks for) with and
// without the post-ops the bf16 path uses: the bias, then GELU (erf), then a bf16 output.
// Prints microseconds and GFLOP/s per variant; README (Performance, 2026-12-07) cites it.
//   cc -O2 tools/benchmarks/probes/bf16_postops.c -o /tmp/bf16_postops -ldnnl -lgomp
//   /tmp/bf16_postops 384 1536      (K N: 384 1536 is MiniLM's intermediate product)
// Variants: 0 plain, 1 bias, 2 bias + GELU, 3 bias + GELU + bf16 output.
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
void omp_set_num_threads(int);
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
#define CK(x) do{dnnl_status_t s=(x); if(s){printf("fail %d at %s\n",s,#x);exit(1);}}while(0)
int main(int argc,char**argv){
  omp_set_num_threads(1);
  dnnl_engine_t eng; CK(dnnl_engine_create(&eng,dnnl_cpu,0));
  dnnl_stream_t st; CK(dnnl_stream_create(&st,eng,dnnl_stream_default_flags));
  int64_t M=256,K=atoi(argv[1]),N=atoi(argv[2]);
  for(int variant=0;variant<4;variant++){
    dnnl_memory_desc_t a,w,c,b;
    dnnl_dims_t ad={M,K},wd={K,N},cd={M,N},bd={1,N};
    CK(dnnl_memory_desc_init_by_tag(&a,2,ad,dnnl_bf16,dnnl_ab));
    CK(dnnl_memory_desc_init_by_tag(&w,2,wd,dnnl_bf16,dnnl_format_tag_any));
    CK(dnnl_memory_desc_init_by_tag(&c,2,cd,variant>=2?dnnl_bf16:dnnl_f32,dnnl_ab));
    CK(dnnl_memory_desc_init_by_tag(&b,2,bd,dnnl_f32,dnnl_ab));
    dnnl_matmul_desc_t d; CK(dnnl_matmul_desc_init(&d,&a,&w,variant>=1?&b:NULL,&c));
    dnnl_primitive_attr_t attr; CK(dnnl_primitive_attr_create(&attr));
    if(variant>=1){dnnl_post_ops_t ops; CK(dnnl_post_ops_create(&ops));
      if(variant!=1) CK(dnnl_post_ops_append_eltwise(ops,1.0f,dnnl_eltwise_gelu_erf,0,0));
      CK(dnnl_primitive_attr_set_post_ops(attr,ops));}
    dnnl_primitive_desc_t pd; CK(dnnl_primitive_desc_create(&pd,&d,attr,eng,NULL));
    const char*impl; dnnl_primitive_desc_query(pd,dnnl_query_impl_info_str,0,&impl);
    const dnnl_memory_desc_t*wl=dnnl_primitive_desc_query_md(pd,dnnl_query_weights_md,0);
    dnnl_primitive_t p; CK(dnnl_primitive_create(&p,pd));
    dnnl_memory_t am,wm,cm,bm;
    CK(dnnl_memory_create(&am,&a,eng,DNNL_MEMORY_ALLOCATE));
    CK(dnnl_memory_create(&wm,wl,eng,DNNL_MEMORY_ALLOCATE));
    CK(dnnl_memory_create(&cm,&c,eng,DNNL_MEMORY_ALLOCATE));
    CK(dnnl_memory_create(&bm,&b,eng,DNNL_MEMORY_ALLOCATE));
    dnnl_exec_arg_t args[]={{DNNL_ARG_SRC,am},{DNNL_ARG_WEIGHTS,wm},{DNNL_ARG_DST,cm},{DNNL_ARG_BIAS,bm}};
    for(int i=0;i<20;i++){CK(dnnl_primitive_execute(p,st,variant?4:3,args));}
    double t0=now(); int R=400;
    for(int i=0;i<R;i++){CK(dnnl_primitive_execute(p,st,variant?4:3,args));}
    dnnl_stream_wait(st);
    double t=(now()-t0)/R;
    printf("variant %d impl %s  %.1f us  %.1f GFLOP/s  wformat hash %d\n",variant,impl,t*1e6,2.0*M*N*K/t*1e-9,(int)dnnl_memory_desc_get_size(wl));
  }
}
