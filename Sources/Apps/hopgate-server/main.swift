internal import ArgumentParser
print("hopgate-server")
