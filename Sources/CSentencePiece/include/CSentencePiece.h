// A C interface to libsentencepiece's SentencePieceProcessor, so that Swift targets need no
// C++ interoperability. Strings are UTF-8 byte ranges (pointer + length, not NUL-terminated).
#ifndef CSENTENCEPIECE_H
#define CSENTENCEPIECE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct spm_processor spm_processor;

/// Loads a serialized ModelProto (.model file). On failure returns NULL and sets *error to a
/// message to release with spm_string_free.
spm_processor *spm_load(const char *path, char **error);
void spm_free(spm_processor *processor);
void spm_string_free(char *string);

/// The vocabulary: ids are 0 ..< spm_piece_count.
int32_t spm_piece_count(const spm_processor *processor);
/// The id of `piece`, or the unknown id when the vocabulary lacks it.
int32_t spm_piece_to_id(const spm_processor *processor, const char *piece, size_t length);
/// The piece of `id` (0 ..< spm_piece_count), valid while the processor lives.
const char *spm_id_to_piece(const spm_processor *processor, int32_t id, size_t *length);
float spm_score(const spm_processor *processor, int32_t id);
/// 1 for pieces of that type, else 0.
int spm_is_control(const spm_processor *processor, int32_t id);
int spm_is_unknown(const spm_processor *processor, int32_t id);
int spm_is_unused(const spm_processor *processor, int32_t id);
int spm_is_byte(const spm_processor *processor, int32_t id);
/// The model's special ids, -1 when it has none.
int32_t spm_unk_id(const spm_processor *processor);
int32_t spm_bos_id(const spm_processor *processor);
int32_t spm_eos_id(const spm_processor *processor);
int32_t spm_pad_id(const spm_processor *processor);

/// Pieces of one encoded text: ids and [begin, end) byte offsets into the input.
typedef struct {
    int32_t *ids;
    uint32_t *begins;
    uint32_t *ends;
    size_t count;
} spm_encoding;

/// Encodes `length` bytes of UTF-8 text (no special tokens added). Returns 0 and fills
/// *out (release it with spm_encoding_free), or returns -1 and sets *error.
int spm_encode(const spm_processor *processor, const char *text, size_t length,
               spm_encoding *out, char **error);
void spm_encoding_free(spm_encoding *encoding);

#ifdef __cplusplus
}
#endif
#endif
