using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("faceindex")]
[assembly: InternalsVisibleTo("FaceIndex.Vision.Tests")]
[assembly: InternalsVisibleTo("FaceIndex.Cli.Tests")]
[assembly: InternalsVisibleTo("FaceIndex.Benchmarks")]
