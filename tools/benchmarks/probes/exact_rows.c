// oneDNN 2.6 matmul with M fixed at the product's row count against the pieces of 256, 128,
// ..., 1 rows that Sources/CDNNL/cdnnl.c runs, one thread, weights packed once.
//   cc -O2 tools/benchmarks/probes/exact_rows.c -o /tmp/exact_rows -ldnnl -lgomp
//   /tmp/exact_rows K N KIND      (KIND 0 f32, 1 bf16, 2 u8s8)
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
void omp_set_num_threads(int);
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
#define CK(x) do{dnnl_status_t s=(x); if(s){printf("fail %d at %s\n",s,#x);exit(1);}}while(0)
dnnl_engine_t eng; dnnl_stream_t st;
int K,N; dnnl_data_type_t ta,tw,tc;
dnnl_memory_t wm; dnnl_memory_desc_t wl;
dnnl_primitive_t make(int64_t M,const char**impl,double*ct){
  dnnl_memory_desc_t a,w,c; dnnl_dims_t ad={M,K},wd={K,N},cd={M,N};
  CK(dnnl_memory_desc_init_by_tag(&a,2,ad,ta,dnnl_ab));
  CK(dnnl_memory_desc_init_by_tag(&w,2,wd,tw,dnnl_format_tag_any));
  CK(dnnl_memory_desc_init_by_tag(&c,2,cd,tc,dnnl_ab));
  dnnl_matmul_desc_t d; CK(dnnl_matmul_desc_init(&d,&a,&w,NULL,&c));
  double t0=now();
  dnnl_primitive_desc_t pd; CK(dnnl_primitive_desc_create(&pd,&d,NULL,eng,NULL));
  dnnl_primitive_desc_query(pd,dnnl_query_impl_info_str,0,impl);
  wl=*dnnl_primitive_desc_query_md(pd,dnnl_query_weights_md,0);
  dnnl_primitive_t p; CK(dnnl_primitive_create(&p,pd)); *ct=now()-t0; return p;
}
double run(dnnl_primitive_t p,int64_t M,int R){
  dnnl_memory_desc_t a,c; dnnl_dims_t ad={M,K},cd={M,N};
  CK(dnnl_memory_desc_init_by_tag(&a,2,ad,ta,dnnl_ab)); CK(dnnl_memory_desc_init_by_tag(&c,2,cd,tc,dnnl_ab));
  dnnl_memory_t am,cm; CK(dnnl_memory_create(&am,&a,eng,DNNL_MEMORY_ALLOCATE)); CK(dnnl_memory_create(&cm,&c,eng,DNNL_MEMORY_ALLOCATE));
  dnnl_exec_arg_t args[]={{DNNL_ARG_SRC,am},{DNNL_ARG_WEIGHTS,wm},{DNNL_ARG_DST,cm}};
  for(int i=0;i<5;i++)CK(dnnl_primitive_execute(p,st,3,args));
  double t0=now(); for(int i=0;i<R;i++)CK(dnnl_primitive_execute(p,st,3,args)); dnnl_stream_wait(st);
  double t=(now()-t0)/R; dnnl_memory_destroy(am); dnnl_memory_destroy(cm); return t;
}
int main(int argc,char**argv){
  omp_set_num_threads(1);
  CK(dnnl_engine_create(&eng,dnnl_cpu,0)); CK(dnnl_stream_create(&st,eng,dnnl_stream_default_flags));
  K=atoi(argv[1]);N=atoi(argv[2]); int kind=atoi(argv[3]);
  ta=kind==0?dnnl_f32:kind==1?dnnl_bf16:dnnl_u8; tw=kind==0?dnnl_f32:kind==1?dnnl_bf16:dnnl_s8; tc=kind==2?dnnl_s32:dnnl_f32;
  const char*impl; double ct;
  dnnl_primitive_t p256=make(256,&impl,&ct); dnnl_memory_desc_t layout=wl;
  CK(dnnl_memory_create(&wm,&layout,eng,DNNL_MEMORY_ALLOCATE));
  int ms[]={23,30,13,7,40,64};
  for(int q=0;q<6;q++){int M=ms[q];
    dnnl_primitive_t pe=make(M,&impl,&ct); int same=dnnl_memory_desc_equal(&wl,&layout);
    double te=run(pe,M,300);
    double tp=0; int rest=M; for(int r=256;r>=1;r>>=1) if(rest>=r){double c2;const char*i2; dnnl_primitive_t pp=make(r,&i2,&c2); tp+=run(pp,r,300); rest-=r;}
    printf("M %3d exact %7.1f us (%s, layout same %d, create %.2f ms)  pieces %7.1f us  ratio %.2f\n",M,te*1e6,impl,same,ct*1e3,tp*1e6,tp/te);
  }
}
