import SagaDomain
