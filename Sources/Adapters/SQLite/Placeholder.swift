internal import SQLiteNIO
