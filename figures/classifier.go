package figures

import (
	"context"
	"path/filepath"

	"github.com/ddpm-go/ddpm/ddpm/classifier"
)

// NoisyClassifier returns the noisy classifier p(y | x_t, t) of classifier guidance for model m,
// trained on m's noise schedule in RunsDir/<recipe>-classifier (reused when finished). Full mode
// uses the command's defaults (3 epochs of 60,000 images); quick mode 2 epochs of 3,200 images,
// which takes a couple of minutes on 2 cores, most of it measuring the test accuracy.
func (e *Env) NoisyClassifier(ctx context.Context, m *Model) (*classifier.Trained, error) {
	spec := classifier.SpecFromRecipe(m.Recipe, "model "+m.Recipe.Name)
	if e.Mode == Quick {
		spec.Train.TrainExamples, spec.Train.BatchSize, spec.Train.Epochs = quickExamples, 64, 2
	}
	spec.Train.KeepCheckpoints = 1
	dir := filepath.Join(e.RunsDir, m.Recipe.Name+"-classifier")
	res, err := classifier.Train(ctx, classifier.TrainOptions{Spec: spec, Dir: dir, Resume: true, Backend: e.Backend,
		DataDir: e.DataDir, Log: relWriter{e.Log, e.Root}})
	if err != nil {
		return nil, err
	}
	if res.Trained != nil {
		return res.Trained, nil
	}
	return classifier.Load(dir)
}
