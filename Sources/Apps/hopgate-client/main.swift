internal import ArgumentParser
print("hopgate-client")
