internal import X509
