using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("FaceIndex.Vision.Tests")]
[assembly: InternalsVisibleTo("FaceIndex.Benchmarks")]
