package ociimage

import (
	"fmt"
	"maps"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Standard OCI annotation keys (the image spec's pre-defined annotations).
const (
	AnnotationCreated  = "org.opencontainers.image.created"
	AnnotationSource   = "org.opencontainers.image.source"
	AnnotationRevision = "org.opencontainers.image.revision"
	AnnotationVersion  = "org.opencontainers.image.version"
	AnnotationTitle    = "org.opencontainers.image.title"
	AnnotationLicenses = "org.opencontainers.image.licenses"
	AnnotationRefName  = "org.opencontainers.image.ref.name"
)

// Config is how an image runs and what it says about itself.
type Config struct {
	Entrypoint, Cmd, Env []string
	User, WorkingDir     string
	// Created stamps the image, its history and (by the caller) its layers; a fixed
	// time (a commit's) keeps the digest reproducible.
	Created time.Time
	// Annotations go on every manifest and the index, and as labels into the config.
	Annotations map[string]string
}

// Image stacks layers on base (nil: an empty image) for one platform and sets its
// configuration. Base's own settings (environment, user …) are kept where cfg leaves
// them empty.
func Image(base v1.Image, platform v1.Platform, cfg Config, layers ...v1.Layer) (v1.Image, error) {
	if base == nil {
		base = mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	}
	adds := make([]mutate.Addendum, 0, len(layers))
	for _, l := range layers {
		adds = append(adds, mutate.Addendum{Layer: l, MediaType: types.OCILayer,
			History: v1.History{Created: v1.Time{Time: cfg.Created}, CreatedBy: "flok (ociimage)"}})
	}
	img, err := mutate.Append(base, adds...)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = platform.OS, platform.Architecture, platform.Variant
	cf.Created = v1.Time{Time: cfg.Created}
	applyConfig(&cf.Config, cfg)
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return nil, err
	}
	return mutate.Annotations(img, cfg.Annotations).(v1.Image), nil
}

func applyConfig(c *v1.Config, cfg Config) {
	if cfg.Entrypoint != nil {
		c.Entrypoint = cfg.Entrypoint
	}
	if cfg.Cmd != nil {
		c.Cmd = cfg.Cmd
	}
	c.Env = append(c.Env, cfg.Env...)
	if cfg.User != "" {
		c.User = cfg.User
	}
	if cfg.WorkingDir != "" {
		c.WorkingDir = cfg.WorkingDir
	}
	if len(cfg.Annotations) > 0 {
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
		maps.Copy(c.Labels, cfg.Annotations)
	}
}

// Index gathers one image per platform into a multi-platform image index, in the
// order given, annotated like its images.
func Index(annotations map[string]string, images ...v1.Image) (v1.ImageIndex, error) {
	var idx v1.ImageIndex = mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, img := range images {
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, err
		}
		if cf.OS == "" || cf.Architecture == "" {
			return nil, fmt.Errorf("an image of the index has no platform (os %q, architecture %q)", cf.OS, cf.Architecture)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: cf.Platform()}})
	}
	return mutate.Annotations(idx, annotations).(v1.ImageIndex), nil
}
