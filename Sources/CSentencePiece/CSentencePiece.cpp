#include "CSentencePiece.h"

#include <sentencepiece_processor.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>

struct spm_processor {
    sentencepiece::SentencePieceProcessor processor;
};

static char *copy_string(const std::string &s) {
    char *out = static_cast<char *>(std::malloc(s.size() + 1));
    if (out) {
        std::memcpy(out, s.data(), s.size());
        out[s.size()] = 0;
    }
    return out;
}

extern "C" {

spm_processor *spm_load(const char *path, char **error) {
    auto *p = new (std::nothrow) spm_processor;
    if (!p) {
        if (error) *error = copy_string("out of memory");
        return nullptr;
    }
    // libsentencepiece throws on some malformed models (an empty piece makes darts-clone throw
    // "zero-length key"; found by tools/fuzz); an exception must not cross into Swift.
    std::string message;
    try {
        const auto status = p->processor.Load(path);
        if (status.ok()) return p;
        message = status.ToString();
    } catch (const std::exception &e) {
        message = std::string("the model is malformed: ") + e.what();
    } catch (...) {
        message = "the model is malformed";
    }
    if (error) *error = copy_string(message);
    delete p;
    return nullptr;
}

void spm_free(spm_processor *processor) { delete processor; }

void spm_string_free(char *string) { std::free(string); }

int32_t spm_piece_count(const spm_processor *p) { return p->processor.GetPieceSize(); }

int32_t spm_piece_to_id(const spm_processor *p, const char *piece, size_t length) {
    return p->processor.PieceToId(absl::string_view(piece, length));
}

const char *spm_id_to_piece(const spm_processor *p, int32_t id, size_t *length) {
    const std::string &piece = p->processor.IdToPiece(id);
    if (length) *length = piece.size();
    return piece.data();
}

float spm_score(const spm_processor *p, int32_t id) { return p->processor.GetScore(id); }
int spm_is_control(const spm_processor *p, int32_t id) { return p->processor.IsControl(id) ? 1 : 0; }
int spm_is_unknown(const spm_processor *p, int32_t id) { return p->processor.IsUnknown(id) ? 1 : 0; }
int spm_is_unused(const spm_processor *p, int32_t id) { return p->processor.IsUnused(id) ? 1 : 0; }
int spm_is_byte(const spm_processor *p, int32_t id) { return p->processor.IsByte(id) ? 1 : 0; }
int32_t spm_unk_id(const spm_processor *p) { return p->processor.unk_id(); }
int32_t spm_bos_id(const spm_processor *p) { return p->processor.bos_id(); }
int32_t spm_eos_id(const spm_processor *p) { return p->processor.eos_id(); }
int32_t spm_pad_id(const spm_processor *p) { return p->processor.pad_id(); }

int spm_encode(const spm_processor *p, const char *text, size_t length, spm_encoding *out, char **error) {
    std::memset(out, 0, sizeof *out);
    sentencepiece::ImmutableSentencePieceText spt;
    try {
        const auto status = p->processor.Encode(absl::string_view(text, length), spt.mutable_proto());
        if (!status.ok()) {
            if (error) *error = copy_string(status.ToString());
            return -1;
        }
    } catch (const std::exception &e) {
        if (error) *error = copy_string(std::string("encoding threw: ") + e.what());
        return -1;
    } catch (...) {
        if (error) *error = copy_string("encoding threw");
        return -1;
    }
    const size_t n = spt.pieces_size();
    const size_t bytes = n ? n : 1;
    out->ids = static_cast<int32_t *>(std::malloc(bytes * sizeof(int32_t)));
    out->begins = static_cast<uint32_t *>(std::malloc(bytes * sizeof(uint32_t)));
    out->ends = static_cast<uint32_t *>(std::malloc(bytes * sizeof(uint32_t)));
    if (!out->ids || !out->begins || !out->ends) {
        spm_encoding_free(out);
        if (error) *error = copy_string("out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const auto piece = spt.pieces(static_cast<int>(i));
        out->ids[i] = static_cast<int32_t>(piece.id());
        out->begins[i] = piece.begin();
        out->ends[i] = piece.end();
    }
    out->count = n;
    return 0;
}

void spm_encoding_free(spm_encoding *e) {
    std::free(e->ids);
    std::free(e->begins);
    std::free(e->ends);
    std::memset(e, 0, sizeof *e);
}

}  // extern "C"
