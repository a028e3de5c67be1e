// The fp32 fine-tuning step's nine products (forward x·Wᵀ, dx = dy·W, dW += dyᵀ·x for MiniLM's
// three weight shapes) at 1,024 rows, one thread: Debian's OpenBLAS cblas_sgemm against
// oneDNN 2.6's f32 matmul on the same operands (strides for the transposes, nothing packed
// once: the weights change every step). README (Performance, 2026-12-07) cites it.
//   cc -O2 tools/benchmarks/probes/training_f32.c -o /tmp/training_f32 -ldnnl -lgomp -lopenblas \
//      -I/usr/include/x86_64-linux-gnu/openblas-pthread
#include <dnnl.h>
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
void omp_set_num_threads(int);
void openblas_set_num_threads(int);
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
#define CK(x) do{dnnl_status_t s=(x); if(s){printf("fail %d at %s\n",s,#x);exit(1);}}while(0)
dnnl_engine_t eng; dnnl_stream_t st;
// C (M,N) = op(A) op(B) + beta C, row-major; A stored (M,K) or (K,M) if ta; B stored (K,N) or (N,K) if tb
double dnnl(int M,int N,int K,int ta,int tb,float beta,float*A,float*B,float*C,int R){
  dnnl_memory_desc_t a,b,c; dnnl_dims_t ad={M,K},bd={K,N},cd={M,N};
  dnnl_dims_t as={ta?1:K, ta?M:1}, bs={tb?1:N, tb?K:1}, cs={N,1};
  CK(dnnl_memory_desc_init_by_strides(&a,2,ad,dnnl_f32,as));
  CK(dnnl_memory_desc_init_by_strides(&b,2,bd,dnnl_f32,bs));
  CK(dnnl_memory_desc_init_by_strides(&c,2,cd,dnnl_f32,cs));
  dnnl_matmul_desc_t d; CK(dnnl_matmul_desc_init(&d,&a,&b,NULL,&c));
  dnnl_primitive_attr_t attr; CK(dnnl_primitive_attr_create(&attr));
  if(beta){dnnl_post_ops_t ops; CK(dnnl_post_ops_create(&ops)); CK(dnnl_post_ops_append_sum(ops,1.0f)); CK(dnnl_primitive_attr_set_post_ops(attr,ops));}
  dnnl_primitive_desc_t pd; CK(dnnl_primitive_desc_create(&pd,&d,attr,eng,NULL));
  const char*impl; dnnl_primitive_desc_query(pd,dnnl_query_impl_info_str,0,&impl);
  dnnl_primitive_t p; CK(dnnl_primitive_create(&p,pd));
  dnnl_memory_t am,bm,cm; CK(dnnl_memory_create(&am,&a,eng,A)); CK(dnnl_memory_create(&bm,&b,eng,B)); CK(dnnl_memory_create(&cm,&c,eng,C));
  dnnl_exec_arg_t args[]={{DNNL_ARG_SRC,am},{DNNL_ARG_WEIGHTS,bm},{DNNL_ARG_DST,cm}};
  for(int i=0;i<3;i++)CK(dnnl_primitive_execute(p,st,3,args)); dnnl_stream_wait(st);
  double best=1e9; for(int i=0;i<R;i++){double t0=now(); CK(dnnl_primitive_execute(p,st,3,args)); dnnl_stream_wait(st); double t=now()-t0; if(t<best)best=t;}
  printf("   dnnl impl %s\n",impl); return best;
}
double blas(int M,int N,int K,int ta,int tb,float beta,float*A,float*B,float*C,int R){
  for(int i=0;i<3;i++) cblas_sgemm(CblasRowMajor,ta?CblasTrans:CblasNoTrans,tb?CblasTrans:CblasNoTrans,M,N,K,1,A,ta?M:K,B,tb?K:N,beta,C,N);
  double best=1e9; for(int i=0;i<R;i++){double t0=now(); cblas_sgemm(CblasRowMajor,ta?CblasTrans:CblasNoTrans,tb?CblasTrans:CblasNoTrans,M,N,K,1,A,ta?M:K,B,tb?K:N,beta,C,N); double t=now()-t0; if(t<best)best=t;}
  return best;
}
int main(){
  omp_set_num_threads(1); openblas_set_num_threads(1);
  CK(dnnl_engine_create(&eng,dnnl_cpu,0)); CK(dnnl_stream_create(&st,eng,dnnl_stream_default_flags));
  int rows=1024; int shapes[3][2]={{384,384},{384,1536},{1536,384}};
  float*A=malloc(4*4096*4096),*B=malloc(4*4096*4096),*C=malloc(4*4096*4096);
  for(int i=0;i<4096*4096;i++){A[i]=(i%13)*0.01f;B[i]=(i%7)*0.01f;C[i]=0;}
  double tb_=0,td_=0;
  for(int s=0;s<3;s++){int K=shapes[s][0],N=shapes[s][1];
    struct {const char*n;int M,N,K,ta,tb;float beta;} cs[3]={{"fwd x.Wt",rows,N,K,0,1,0},{"dx dy.W",rows,K,N,0,0,0},{"dW dyt.x",N,K,rows,1,0,1}};
    for(int q=0;q<3;q++){ double fl=2.0*cs[q].M*cs[q].N*cs[q].K;
      double b=blas(cs[q].M,cs[q].N,cs[q].K,cs[q].ta,cs[q].tb,cs[q].beta,A,B,C,10);
      double d=dnnl(cs[q].M,cs[q].N,cs[q].K,cs[q].ta,cs[q].tb,cs[q].beta,A,B,C,10);
      tb_+=b; td_+=d;
      printf("K %4d N %4d %-9s openblas %6.1f GF/s  dnnl %6.1f GF/s  ratio %.2f\n",K,N,cs[q].n,fl/b*1e-9,fl/d*1e-9,b/d);}
  }
  printf("total openblas %.2f ms dnnl %.2f ms ratio %.2f\n",tb_*1e3,td_*1e3,tb_/td_);
}
