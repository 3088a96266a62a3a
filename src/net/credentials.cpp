#include "rnn/net/credentials.hpp"

#include <fstream>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "rnn/core/error.hpp"

namespace rnn::net {

namespace {

std::string read_pem(const std::filesystem::path& path, const char* what) {
  if (path.empty()) throw Error(fmt::format("TLS needs {} (or --insecure, for loopback tests only)", what));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open {}", path.string(), what));
  std::ostringstream text;
  text << in.rdbuf();
  std::string pem = text.str();
  if (pem.find("-----BEGIN ") == std::string::npos)
    throw Error(fmt::format("{}: not a PEM file ({} expected)", path.string(), what));
  return pem;
}

}  // namespace

std::shared_ptr<grpc::ServerCredentials> server_credentials(const ServerTls& tls, bool insecure) {
  if (insecure) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(tls.client_ca.empty()
                                                ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                                : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_key_cert_pairs.push_back(
      {read_pem(tls.key, "the server's private key"), read_pem(tls.certificate, "the server's certificate")});
  if (!tls.client_ca.empty()) options.pem_root_certs = read_pem(tls.client_ca, "the CA of the clients' certificates");
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> channel_credentials(const ClientTls& tls, bool insecure) {
  if (insecure) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = read_pem(tls.ca, "the CA certificate that signed the server's certificate");
  if (!tls.certificate.empty() || !tls.key.empty()) {
    options.pem_cert_chain = read_pem(tls.certificate, "the worker's certificate");
    options.pem_private_key = read_pem(tls.key, "the worker's private key");
  }
  return grpc::SslCredentials(options);
}

}  // namespace rnn::net
