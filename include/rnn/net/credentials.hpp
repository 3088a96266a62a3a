#pragma once
// TLS for rnnl-ps and rnnl-worker, from PEM files. TLS is the default: a server needs its
// certificate and key, and may require client certificates signed by a CA (mutual TLS); a worker
// needs the CA that signed the server's certificate, and for mutual TLS its own certificate and
// key. `insecure` (plain TCP) exists for loopback tests only. Every error names the file.
#include <filesystem>
#include <memory>

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

namespace rnn::net {

struct ServerTls {
  std::filesystem::path certificate;  // PEM chain
  std::filesystem::path key;          // PEM private key
  std::filesystem::path client_ca;    // non-empty: mutual TLS, clients must present a certificate this CA signed
};

struct ClientTls {
  std::filesystem::path ca;           // the CA that signed the server's certificate
  std::filesystem::path certificate;  // mutual TLS: this worker's certificate …
  std::filesystem::path key;          // … and key
};

[[nodiscard]] std::shared_ptr<grpc::ServerCredentials> server_credentials(const ServerTls& tls, bool insecure);
[[nodiscard]] std::shared_ptr<grpc::ChannelCredentials> channel_credentials(const ClientTls& tls, bool insecure);

}  // namespace rnn::net
