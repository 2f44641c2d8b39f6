using FaceIndex.Core;
using FaceIndex.Testing;
using FaceIndex.Vision.Internal;

namespace FaceIndex.Vision.Tests;

/// <summary>Flip averaging, the batch path and concurrent callers give the embeddings the single-face path gives.</summary>
[Collection(PipelineCollection.Name)]
public sealed class EmbeddingTests(PipelineFixture fixture)
{
    private static readonly string[] s_images = ["img12.jpg", "img16.jpg", "img17.jpg", "img25.jpg"];
    private readonly FacePipeline _pipeline = fixture.Pipeline;

    [Fact]
    public async Task Flip_averaging_is_the_normalised_sum_of_the_face_and_its_mirror_image()
    {
        var bytes = TestImages.Deepface("img17.jpg");
        var options = PipelineFixture.Options();
        options.Sessions = 1;
        options.FlipAveraging = true;
        await using var flipping = FacePipeline.Create(options);
        var flipped = (await flipping.AnalyzeAsync(bytes))[0];
        var plain = (await _pipeline.AnalyzeAsync(bytes))[0];

        var prepared = _pipeline.Prepare(bytes, centreCropFallback: false);
        try
        {
            var mirror = new float[FaceAligner.TensorLength];
            FaceAligner.Mirror(prepared.Faces[0].Aligned, mirror);
            var parts = await _pipeline.EmbedAlignedAsync([prepared.Faces[0].Aligned, mirror], flip: false, default);
            AssertClose(plain.Embedding512, parts[0], 1e-5f);

            var expected = (float[])parts[0].Clone();
            FaceEmbedder.CombineFlip(expected, parts[1]);
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.Equal(expected[i], flipped.Embedding512[i], 5);
            }

            // The mirror image is the same person seen the other way round: close, not identical.
            float mirrorDistance = Similarity.DistanceFromCosine(VectorMath.Dot(parts[0], parts[1]));
            Assert.InRange(mirrorDistance, 1e-4f, 0.5f);
        }
        finally
        {
            prepared.Faces.ForEach(f => f.Release());
        }

        Assert.NotEqual(plain.Vector, flipped.Vector);
        Assert.True(Similarity.Distance(plain.Vector, flipped.Vector) < 0.25f);
    }

    [Fact]
    public async Task The_batch_api_embeds_many_faces_as_one_at_a_time_does()
    {
        var prepared = new List<FacePipeline.PreparedFace>();
        try
        {
            foreach (var file in s_images)
            {
                prepared.AddRange(_pipeline.Prepare(TestImages.Deepface(file), centreCropFallback: false).Faces);
            }

            var aligned = prepared.ConvertAll(p => p.Aligned);
            var viaBatcher = await _pipeline.EmbedAlignedAsync(aligned, flip: false, default);
            for (int i = 0; i < aligned.Count; i++)
            {
                var single = new float[FaceEmbedder.Dimensions];
                _pipeline.Embedder.Embed(aligned[i], single);
                AssertClose(single, viaBatcher[i], 1e-4f);
            }
        }
        finally
        {
            prepared.ForEach(f => f.Release());
        }
    }

    [Fact]
    public async Task A_batch_of_32_faces_in_one_inference_gives_the_embeddings_of_32_single_calls()
    {
        var files = Directory.GetFiles(TestPaths.Faces("lfw-disjoint"), "*.jpg", SearchOption.AllDirectories);
        Array.Sort(files, StringComparer.Ordinal);
        var options = PipelineFixture.Options();
        options.Sessions = 1;
        options.MaxBatch = 32;
        options.MaxWait = TimeSpan.FromSeconds(1); // the most Vision:MaxWait allows; the batch fills at 32 and goes at once
        await using var pipeline = FacePipeline.Create(options);
        var prepared = new List<FacePipeline.PreparedFace>();
        try
        {
            for (int i = 0; prepared.Count < 32; i += 7)
            {
                var faces = pipeline.Prepare(File.ReadAllBytes(files[i]), centreCropFallback: false).Faces;
                for (int f = 0; f < faces.Count; f++)
                {
                    if (f == 0)
                    {
                        prepared.Add(faces[f]);
                    }
                    else
                    {
                        faces[f].Release();
                    }
                }
            }

            var aligned = prepared.ConvertAll(p => p.Aligned);
            long batches = pipeline.Embedder.Queue.Batches;
            var batched = await pipeline.EmbedAlignedAsync(aligned, flip: false, default);
            Assert.Equal(batches + 1, pipeline.Embedder.Queue.Batches);

            float worst = 0;
            for (int i = 0; i < aligned.Count; i++)
            {
                var single = new float[FaceEmbedder.Dimensions];
                pipeline.Embedder.Embed(aligned[i], single);
                for (int d = 0; d < single.Length; d++)
                {
                    worst = Math.Max(worst, Math.Abs(single[d] - batched[i][d]));
                }
            }

            Assert.InRange(worst, 0f, 1e-4f);
        }
        finally
        {
            prepared.ForEach(f => f.Release());
        }
    }

    [Fact]
    public async Task A_lone_face_waits_for_its_batch_no_longer_than_MaxWait()
    {
        var options = PipelineFixture.Options();
        options.Sessions = 1;
        options.MaxBatch = 64;
        options.MaxWait = TimeSpan.FromMilliseconds(150);
        await using var pipeline = FacePipeline.Create(options);
        var prepared = pipeline.Prepare(TestImages.Deepface("img17.jpg"), centreCropFallback: false);
        try
        {
            await pipeline.EmbedAlignedAsync([prepared.Faces[0].Aligned], flip: false, default);
            Assert.Equal(1, pipeline.Embedder.Queue.Batches);

            // The batch starts when MaxWait has passed, not before, and without the other 63 faces (without
            // the timer it would wait for them forever). The upper bound only tells "the timer fired" from
            // "it hung": a timer fires late on a loaded machine (0.81 s once, for 0.15 s, while a fit used both cores).
            Assert.InRange(pipeline.Embedder.Queue.LongestWait, TimeSpan.FromMilliseconds(140), TimeSpan.FromSeconds(10));
        }
        finally
        {
            prepared.Faces.ForEach(f => f.Release());
        }
    }

    private static void AssertClose(float[] expected, float[] actual, float tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.InRange(Math.Abs(expected[i] - actual[i]), 0f, tolerance);
        }
    }

    [Fact]
    public async Task Concurrent_callers_get_the_results_of_sequential_calls()
    {
        var images = Array.ConvertAll(s_images, TestImages.Deepface);
        var sequential = new List<FaceVector>();
        foreach (var image in images)
        {
            sequential.Add((await _pipeline.AnalyzeAsync(image))[0].Vector);
        }

        var tasks = new List<Task<IReadOnlyList<DetectedFace>>>();
        for (int round = 0; round < 3; round++)
        {
            foreach (var image in images)
            {
                tasks.Add(Task.Run(() => _pipeline.AnalyzeAsync(image)));
            }
        }

        var results = await Task.WhenAll(tasks);
        for (int i = 0; i < results.Length; i++)
        {
            Assert.Equal(sequential[i % images.Length], results[i][0].Vector);
        }
    }

    [Theory]
    [InlineData(false, 2, 1)]
    [InlineData(true, 1, 2)]
    public async Task Separate_sessions_and_intra_op_threads_give_the_same_codes(bool share, int sessions, int threads)
    {
        var options = PipelineFixture.Options();
        options.ShareSessions = share;
        options.Sessions = sessions;
        options.IntraOpThreads = threads;
        await using var other = FacePipeline.Create(options);
        foreach (var file in s_images)
        {
            var bytes = TestImages.Deepface(file);
            var expected = (await _pipeline.AnalyzeAsync(bytes))[0];
            var actual = (await other.AnalyzeAsync(bytes))[0];
            Assert.Equal(expected.Box, actual.Box);
            for (int i = 0; i < expected.Embedding512.Length; i++)
            {
                Assert.Equal(expected.Embedding512[i], actual.Embedding512[i], 4);
            }
        }
    }

    [Fact]
    public async Task Disposing_the_pipeline_finishes_the_queued_faces()
    {
        var options = PipelineFixture.Options();
        options.Sessions = 1;
        var pipeline = FacePipeline.Create(options);
        var bytes = TestImages.Deepface("img25.jpg");
        var analyses = new[] { pipeline.AnalyzeAsync(bytes), pipeline.AnalyzeAsync(bytes), pipeline.AnalyzeAsync(bytes) };
        await pipeline.DisposeAsync();
        foreach (var analysis in analyses)
        {
            Assert.Single(await analysis);
        }

        await Assert.ThrowsAsync<ObjectDisposedException>(() => pipeline.AnalyzeAsync(bytes));
    }

    [Fact]
    public async Task The_code_is_the_quantized_projection_of_the_embedding()
    {
        var face = (await _pipeline.AnalyzeAsync(TestImages.Deepface("img25.jpg")))[0];
        var projected = new float[FaceVector.Dimensions];
        _pipeline.Projection!.Apply(face.Embedding512, projected);
        Assert.Equal(face.Embedding128, projected);
        Assert.Equal(Quantizer.Quantize(projected), face.Vector);

        // The int8 code keeps the geometry: its distance to another face is the float distance within 0.02.
        var other = (await _pipeline.AnalyzeAsync(TestImages.Deepface("img12.jpg")))[0];
        float floatDistance = Similarity.DistanceFromCosine(VectorMath.Dot(face.Embedding128, other.Embedding128));
        Assert.Equal(floatDistance, Similarity.Distance(face.Vector, other.Vector), 0.02f);
    }
}
