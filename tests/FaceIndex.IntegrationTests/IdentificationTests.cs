using FaceIndex.Protocol.V1;
using FaceIndex.Testing;

namespace FaceIndex.IntegrationTests;

/// <summary>Identification, open-set search and verification on real photographs through the real server.</summary>
public sealed class IdentificationTests(GalleryFixture gallery) : IClassFixture<GalleryFixture>
{
    [Fact]
    public async Task A_held_out_photo_of_every_enrolled_person_is_identified_at_rank_1()
    {
        var distances = new List<string>();
        foreach (var (person, file) in gallery.HeldOut)
        {
            var ranked = await gallery.Client.SearchAsync(new SearchRequest { Image = Deepface.Bytes(file), TopK = 3, Threshold = 4f });
            var best = ranked.Faces[0].Matches[0];
            Assert.Equal(person, best.PersonId);
            Assert.Contains(best.FaceId, gallery.Enrolled[person]);
            Assert.True(ranked.Faces[0].Box.Width > 20 && ranked.Faces[0].DetectionScore > 0.5f);
            distances.Add($"{person} {best.Distance:F3}");

            // At the server's calibrated threshold the same person is a match, not unknown.
            var reply = await gallery.Client.SearchAsync(new SearchRequest { Image = Deepface.Bytes(file), TopK = 3 });
            Assert.False(reply.Faces[0].Unknown, $"{file} of {person} came back unknown at threshold {reply.Threshold}: {string.Join(", ", distances)}");
            Assert.Equal(person, reply.Faces[0].Matches[0].PersonId);
            Assert.True(reply.Faces[0].Matches[0].Distance <= reply.Threshold);
        }
    }

    [Theory]
    [InlineData("AJ_Cook")]
    [InlineData("Alex_Zanardi")]
    [InlineData("Barbara_Roberts")]
    [InlineData("Bob_Wright")]
    [InlineData("Cheryl_Tiegs")]
    public async Task A_person_never_enrolled_is_unknown(string stranger)
    {
        var reply = await gallery.Client.SearchAsync(new SearchRequest { Image = Deepface.Stranger(stranger) });
        var face = Assert.Single(reply.Faces);
        Assert.True(face.Unknown);
        Assert.Empty(face.Matches);
    }

    [Fact]
    public async Task A_threshold_of_4_turns_every_candidate_into_a_match_in_distance_order()
    {
        var reply = await gallery.Client.SearchAsync(new SearchRequest { Image = Deepface.Stranger("AJ_Cook"), TopK = 5, Threshold = 4f });
        var matches = reply.Faces[0].Matches;
        Assert.Equal(5, matches.Count);
        Assert.Equal(4f, reply.Threshold);
        Assert.Equal(matches.OrderBy(m => m.Distance).Select(m => m.FaceId), matches.Select(m => m.FaceId));
    }

    [Fact]
    public async Task Every_face_of_a_group_photo_is_searched()
    {
        var reply = await gallery.Client.SearchAsync(new SearchRequest { Image = Deepface.Bytes("selfie-many-people.jpg") });
        Assert.True(reply.Faces.Count >= 5, $"{reply.Faces.Count} faces");
        Assert.All(reply.Faces, f => Assert.True(f.Box.Width > 0 && f.Box.Height > 0));
        var areas = reply.Faces.Select(f => f.Box.Width * f.Box.Height).ToList();
        Assert.Equal(areas.OrderDescending(), areas);
    }

    [Fact]
    public async Task Verify_tells_the_same_person_from_another()
    {
        var same = await gallery.Client.VerifyAsync(new VerifyRequest { ImageA = Deepface.Bytes("img1.jpg"), ImageB = Deepface.Bytes("img2.jpg") });
        Assert.True(same.Same);
        Assert.True(same.Distance < same.Threshold);

        var different = await gallery.Client.VerifyAsync(new VerifyRequest { ImageA = Deepface.Bytes("img1.jpg"), ImageB = Deepface.Bytes("img8.jpg") });
        Assert.False(different.Same);
        Assert.True(different.Distance > different.Threshold);
        Assert.Equal(1f - (different.Distance / 2f), different.Similarity, 4);
    }

    [Fact]
    public async Task Verify_against_an_enrolled_person_uses_their_closest_face()
    {
        var reply = await gallery.Client.VerifyAsync(new VerifyRequest { ImageA = Deepface.Bytes("img11.jpg"), PersonId = "angelina" });
        Assert.True(reply.Same);
        Assert.Contains(reply.ClosestFaceId, gallery.Enrolled["angelina"]);

        var other = await gallery.Client.VerifyAsync(new VerifyRequest { ImageA = Deepface.Bytes("img11.jpg"), PersonId = "p-8-9" });
        Assert.False(other.Same);
    }

    [Fact]
    public async Task Enrolling_the_same_image_again_for_the_same_person_is_idempotent()
    {
        var first = await gallery.Client.EnrollAsync(Deepface.Enroll("angelina", "img1.jpg"));
        Assert.True(first.Duplicate);
        Assert.Equal(gallery.Enrolled["angelina"][0], first.Faces[0].FaceId);
        Assert.Equal(32, first.Faces[0].ContentSha256.Length);
        var person = await gallery.Client.GetPersonAsync(new GetPersonRequest { PersonId = "angelina" });
        Assert.Equal(gallery.Enrolled["angelina"].Order(), person.Faces.Select(f => f.FaceId).Order());
    }

    [Fact]
    public async Task Persons_are_listed_in_pages_and_stats_count_everything()
    {
        var seen = new List<string>();
        string token = "";
        do
        {
            var page = await gallery.Client.ListPersonsAsync(new ListPersonsRequest { PageSize = 4, PageToken = token });
            Assert.True(page.Persons.Count <= 4);
            seen.AddRange(page.Persons.Select(p => p.PersonId));
            token = page.NextPageToken;
        }
        while (token.Length > 0);
        Assert.Equal(Deepface.People.Keys.Order(StringComparer.Ordinal), seen);

        var stats = await gallery.Client.StatsAsync(new StatsRequest { Collection = "default" });
        Assert.Equal(gallery.Enrolled.Values.Sum(f => f.Count), stats.Faces);
        Assert.Equal(Deepface.People.Count, stats.Persons);
        Assert.Equal(stats.Faces, stats.IndexedFaces + stats.PendingFaces);
        Assert.Equal(16, stats.Index.M);
        Assert.False(string.IsNullOrEmpty(stats.ModelVersion));
        Assert.Contains(stats.ExecutionProvider, new[] { "Cpu", "Cuda", "TensorRt" });
        Assert.InRange(stats.DefaultThreshold, 0.1f, 2f);

        // Search is stricter than one-to-one verification: it compares a face with every enrolled face.
        Assert.True(stats.DefaultThreshold < stats.VerifyThreshold, $"search {stats.DefaultThreshold}, verify {stats.VerifyThreshold}");
    }
}

/// <summary>One image gives one code, whichever call embeds it and however many calls run at once.</summary>
public sealed class CodeStabilityTests
{
    [Fact]
    public async Task The_same_image_bytes_give_the_same_code_on_Enroll_and_on_Search_under_concurrency()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var host = await ServerHost.StartAsync(dir.Path);
        var files = Directory.GetFiles(TestPaths.Faces("deepface"), "*.jpg").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();

        // Enrolled all at once (the batcher and the CPU stages see concurrent images), searched all at once.
        var enrolled = await Task.WhenAll(files.Select(f => host.Client.EnrollAsync(new EnrollRequest { PersonId = f!, Image = Deepface.Bytes(f!) }).ResponseAsync));
        var searched = await Task.WhenAll(files.Select(f => host.Client.SearchAsync(new SearchRequest { Image = Deepface.Bytes(f!), TopK = 1, Threshold = 4f }).ResponseAsync));
        var differing = new List<string>();
        for (int i = 0; i < files.Length; i++)
        {
            var largest = searched[i].Faces[0];
            var own = largest.Matches[0];
            if (own.FaceId != enrolled[i].Faces[0].FaceId || own.Distance != 0f)
            {
                differing.Add($"{files[i]}: nearest {own.PersonId} at {own.Distance:F4}");
            }
        }

        Assert.True(differing.Count == 0, $"{differing.Count} of {files.Length} images gave another code on Search: {string.Join("; ", differing)}");
    }
}
