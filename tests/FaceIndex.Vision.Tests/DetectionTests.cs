using FaceIndex.Core;

namespace FaceIndex.Vision.Tests;

/// <summary>Every face of an image is found, with plausible boxes and landmarks, largest first.</summary>
[Collection(PipelineCollection.Name)]
public sealed class DetectionTests(PipelineFixture fixture)
{
    private readonly FacePipeline _pipeline = fixture.Pipeline;

    [Fact]
    public async Task A_group_selfie_yields_many_faces_with_plausible_boxes()
    {
        var bytes = TestImages.Deepface("selfie-many-people.jpg");
        using var bitmap = TestImages.Decode(bytes);
        var faces = await _pipeline.AnalyzeAsync(bytes);

        Assert.True(faces.Count >= 5, $"expected at least 5 faces, found {faces.Count}");
        for (int i = 0; i < faces.Count; i++)
        {
            AssertPlausible(faces[i], bitmap.Width, bitmap.Height, _pipeline.Options);
            if (i > 0)
            {
                Assert.True(faces[i - 1].Box.Area >= faces[i].Box.Area, "faces are sorted largest first");
            }
        }

        // Different people: every pair of faces is far apart.
        for (int i = 0; i < faces.Count; i++)
        {
            for (int j = i + 1; j < faces.Count; j++)
            {
                Assert.True(Similarity.Distance(faces[i].Vector, faces[j].Vector) > _pipeline.DefaultThreshold, $"faces {i} and {j} look like the same person");
            }
        }
    }

    [Fact]
    public async Task A_couple_yields_two_faces_of_two_people()
    {
        var bytes = TestImages.Deepface("couple.jpg");
        using var bitmap = TestImages.Decode(bytes);
        var faces = await _pipeline.AnalyzeAsync(bytes);

        Assert.Equal(2, faces.Count);
        foreach (var face in faces)
        {
            AssertPlausible(face, bitmap.Width, bitmap.Height, _pipeline.Options);
        }

        // Side by side, not overlapping.
        var (left, right) = faces[0].Box.X < faces[1].Box.X ? (faces[0].Box, faces[1].Box) : (faces[1].Box, faces[0].Box);
        Assert.True(left.X + left.Width <= right.X, "the two boxes overlap");
        Assert.True(Similarity.Distance(faces[0].Vector, faces[1].Vector) > _pipeline.DefaultThreshold);
    }

    [Theory]
    [InlineData("img1.jpg")]
    [InlineData("img12.jpg")]
    [InlineData("img16.jpg")]
    [InlineData("img25.jpg")]
    public async Task A_portrait_yields_its_face(string file)
    {
        var bytes = TestImages.Deepface(file);
        using var bitmap = TestImages.Decode(bytes);
        var faces = await _pipeline.AnalyzeAsync(bytes);

        Assert.NotEmpty(faces);
        AssertPlausible(faces[0], bitmap.Width, bitmap.Height, _pipeline.Options);
        Assert.Equal(FaceVector.Dimensions, faces[0].Embedding128.Length);
        Assert.Equal(512, faces[0].Embedding512.Length);
        Assert.Equal(1f, Norm(faces[0].Embedding512), 3);
        Assert.Equal(1f, Norm(faces[0].Embedding128), 3);
        Assert.True(Quantizer.IsValid(faces[0].Vector.AsSpan()));
    }

    [Fact]
    public async Task The_minimum_face_size_drops_smaller_faces()
    {
        var bytes = TestImages.Deepface("selfie-many-people.jpg");
        var all = await _pipeline.AnalyzeAsync(bytes);
        float smallest = float.MaxValue;
        foreach (var face in all)
        {
            smallest = MathF.Min(smallest, MathF.Min(face.Box.Width, face.Box.Height));
        }

        float cut = smallest + 1;

        var options = PipelineFixture.Options();
        options.Sessions = 1;
        options.MinFaceSize = (int)MathF.Ceiling(cut);
        await using var strict = FacePipeline.Create(options);
        var kept = await strict.AnalyzeAsync(bytes);

        Assert.True(kept.Count < all.Count);
        Assert.All(kept, f => Assert.True(MathF.Min(f.Box.Width, f.Box.Height) >= options.MinFaceSize));
    }

    /// <summary>Box inside the image and of face-like shape; landmarks inside the box in face order; score over the threshold.</summary>
    internal static void AssertPlausible(DetectedFace face, int width, int height, VisionOptions options)
    {
        var b = face.Box;
        Assert.InRange(face.Score, options.DetectionThreshold, 1f);
        Assert.True(b.X >= 0 && b.Y >= 0 && b.X + b.Width <= width + 0.5f && b.Y + b.Height <= height + 0.5f, $"box {b} leaves the {width}×{height} image");
        Assert.True(MathF.Min(b.Width, b.Height) >= options.MinFaceSize, $"box {b} is under the minimum face size");
        Assert.InRange(b.Height / b.Width, 0.7f, 3f);

        Assert.Equal(5, face.Landmarks.Count);
        foreach (var p in face.Landmarks)
        {
            Assert.True(p.X >= b.X - (0.1f * b.Width) && p.X <= b.X + (1.1f * b.Width) && p.Y >= b.Y - (0.1f * b.Height) && p.Y <= b.Y + (1.1f * b.Height), $"landmark {p} is outside box {b}");
        }

        var (leftEye, rightEye, nose, leftMouth, rightMouth) = (face.Landmarks[0], face.Landmarks[1], face.Landmarks[2], face.Landmarks[3], face.Landmarks[4]);
        Assert.True(leftEye.X < rightEye.X, "the left eye (as seen) is left of the right eye");
        Assert.True(leftMouth.X < rightMouth.X, "the left mouth corner is left of the right one");
        Assert.True(MathF.Max(leftEye.Y, rightEye.Y) < nose.Y, "the eyes are above the nose");
        Assert.True(nose.Y < MathF.Min(leftMouth.Y, rightMouth.Y), "the nose is above the mouth");
    }

    private static float Norm(float[] v) => MathF.Sqrt(VectorMath.Dot(v, v));
}
