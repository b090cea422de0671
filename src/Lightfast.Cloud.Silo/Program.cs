using Lightfast.Cloud.Hosting;
using Lightfast.Cloud.Silo;
using Lightfast.Cloud.Storage.Azure;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.RequireClusteringConfiguration();
builder.Services.AddAzureStorageFromConfiguration(builder.Configuration);
builder.AddLightfastSilo();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
