// The bf16 fine-tuning step's nine products at ROWS rows (default 1,024), one thread:
// dnnl_gemm_bf16bf16f32 (what BF16.gemm calls) against oneDNN 2.6's bf16 matmul on the same
// operands, made per call as training would (oneDNN's primitive cache keeps them).
// README (Fine-tuning's bf16 paragraph in Performance, 2026-12-07) cites it.
//   cc -O2 tools/benchmarks/probes/training_bf16.c -o /tmp/training_bf16 -ldnnl -lgomp
//   /tmp/training_bf16 [ROWS]
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>
void omp_set_num_threads(int);
dnnl_status_t dnnl_gemm_bf16bf16f32(char transa, char transb, dnnl_dim_t M, dnnl_dim_t N, dnnl_dim_t K, float alpha,
                                    const uint16_t *A, dnnl_dim_t lda, const uint16_t *B, dnnl_dim_t ldb, float beta,
                                    float *C, dnnl_dim_t ldc);
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
#define CK(x) do{dnnl_status_t s=(x); if(s){printf("fail %d at %s\n",s,#x);exit(1);}}while(0)
dnnl_engine_t eng; dnnl_stream_t st;
const char* impl_g;
void mm(int M,int N,int K,int ta,int tb,float beta,uint16_t*A,uint16_t*B,float*C){
  dnnl_memory_desc_t a,b,c; dnnl_dims_t ad={M,K},bd={K,N},cd={M,N};
  dnnl_dims_t as={ta?1:K, ta?M:1}, bs={tb?1:N, tb?K:1}, cs={N,1};
  CK(dnnl_memory_desc_init_by_strides(&a,2,ad,dnnl_bf16,as));
  CK(dnnl_memory_desc_init_by_strides(&b,2,bd,dnnl_bf16,bs));
  CK(dnnl_memory_desc_init_by_strides(&c,2,cd,dnnl_f32,cs));
  dnnl_matmul_desc_t d; CK(dnnl_matmul_desc_init(&d,&a,&b,NULL,&c));
  dnnl_primitive_attr_t attr; CK(dnnl_primitive_attr_create(&attr));
  dnnl_post_ops_t ops=NULL; if(beta){CK(dnnl_post_ops_create(&ops)); CK(dnnl_post_ops_append_sum(ops,1.0f)); CK(dnnl_primitive_attr_set_post_ops(attr,ops));}
  dnnl_primitive_desc_t pd; CK(dnnl_primitive_desc_create(&pd,&d,attr,eng,NULL));
  dnnl_primitive_desc_query(pd,dnnl_query_impl_info_str,0,&impl_g);
  dnnl_primitive_t p; CK(dnnl_primitive_create(&p,pd));
  dnnl_memory_t am,bm,cm; CK(dnnl_memory_create(&am,&a,eng,A)); CK(dnnl_memory_create(&bm,&b,eng,B)); CK(dnnl_memory_create(&cm,&c,eng,C));
  dnnl_exec_arg_t args[]={{DNNL_ARG_SRC,am},{DNNL_ARG_WEIGHTS,bm},{DNNL_ARG_DST,cm}};
  CK(dnnl_primitive_execute(p,st,3,args)); dnnl_stream_wait(st);
  dnnl_memory_destroy(am);dnnl_memory_destroy(bm);dnnl_memory_destroy(cm);dnnl_primitive_destroy(p);dnnl_primitive_desc_destroy(pd);dnnl_primitive_attr_destroy(attr); if(ops)dnnl_post_ops_destroy(ops);
}
int main(int argc,char**argv){
  omp_set_num_threads(1);
  CK(dnnl_engine_create(&eng,dnnl_cpu,0)); CK(dnnl_stream_create(&st,eng,dnnl_stream_default_flags));
  int rows=argc>1?atoi(argv[1]):1024; int shapes[3][2]={{384,384},{384,1536},{1536,384}};
  uint16_t*A=malloc(2*4096*4096),*B=malloc(2*4096*4096); float*C=malloc(4*4096*4096);
  for(int i=0;i<4096*4096;i++){A[i]=0x3f80+(i%7);B[i]=0x3f00+(i%5);C[i]=0;}
  double tg=0,tm=0;
  for(int s=0;s<3;s++){int K=shapes[s][0],N=shapes[s][1];
    struct {const char*n;int M,N,K,ta,tb;float beta;} cs[3]={{"fwd x.Wt",rows,N,K,0,1,0},{"dx dy.W",rows,K,N,0,0,0},{"dW dyt.x",N,K,rows,1,0,1}};
    for(int q=0;q<3;q++){ double fl=2.0*cs[q].M*cs[q].N*cs[q].K; int M=cs[q].M,NN=cs[q].N,KK=cs[q].K,ta=cs[q].ta,tb=cs[q].tb; float beta=cs[q].beta;
      double bg=1e9,bm=1e9;
      for(int r=0;r<8;r++){double t0=now(); CK(dnnl_gemm_bf16bf16f32(ta?'T':'N',tb?'T':'N',M,NN,KK,1,A,ta?M:KK,B,tb?KK:NN,beta,C,NN)); double t=now()-t0; if(r>1&&t<bg)bg=t;}
      for(int r=0;r<8;r++){double t0=now(); mm(M,NN,KK,ta,tb,beta,A,B,C); double t=now()-t0; if(r>1&&t<bm)bm=t;}
      tg+=bg; tm+=bm;
      printf("K %4d N %4d %-9s gemm %6.1f GF/s  matmul %6.1f GF/s (%s) ratio %.2f\n",K,N,cs[q].n,fl/bg*1e-9,fl/bm*1e-9,impl_g,bg/bm);}
  }
  printf("total gemm %.2f ms matmul %.2f ms ratio %.2f\n",tg*1e3,tm*1e3,tg/tm);
}
